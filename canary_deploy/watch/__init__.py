"""Polling and the state it keeps while CloudFormation and ECS work: stack events, the rollout, the canary's verdict, Ctrl-C."""
