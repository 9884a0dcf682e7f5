"""ECS: service deployments with tasks that run or fail, their alarms and their history."""
