"""What CloudFormation means, written once, standard library only: stack statuses (stack_status), intrinsic
functions (intrinsics) and Conditions with Fn::If (conditions). The deployer, the local AWS, the diagrams
and the lint rules all read it here."""
