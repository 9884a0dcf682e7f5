"""AWS calls, each to typed state: the session and its clients, stacks, change sets, ECS rollouts, templates as sent."""
