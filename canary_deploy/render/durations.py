"""Lengths of time as the deployer prints them."""


def duration(seconds: float) -> str:
    """`15 min`, `2m10s`, `3s`, `2h05m`."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    if minutes and not rest:
        return f"{minutes} min"
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
