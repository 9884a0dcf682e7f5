"""What CloudFormation means, written once, standard library only: stack statuses (stack_status), intrinsic
functions (intrinsics), Conditions with Fn::If (conditions), and what AWS publishes about resource types and
IAM actions, as cfn-lint ships it (aws_specs). The deployer, the local AWS, the diagrams, the lint rules and the
templates all read it here."""
