"""Pure domain logic: parameters, property and security diffs, the verdict, output files. No AWS call."""
