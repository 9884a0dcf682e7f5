"""CloudWatch: the stacks' alarms, and the Metrics Insights queries they run."""
