"""Output: the console, and what is shown to the user from the state the other layers hold."""
