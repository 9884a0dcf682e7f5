"""AWS answers that moto never gives (throttling), served from a botocore "before-send" hook: the request
then goes through botocore's real retry handler, which the Stubber would bypass."""

from botocore.awsrequest import AWSResponse

THROTTLED = (
    b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"
)


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def answer(request, status: int, body: bytes) -> AWSResponse:
    """What a before-send handler returns instead of sending `request`."""
    return AWSResponse(request.url, status, {}, _Body(body))


def no_retry_delays(monkeypatch) -> None:
    """No real waiting, neither botocore's backoff nor the adaptive mode's rate limiter: the retries are the point."""
    import botocore.retries.bucket
    import botocore.retries.standard

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "_sleep_amount", lambda self, amount: 0)
