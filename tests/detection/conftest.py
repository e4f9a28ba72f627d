import pytest

from warden.detection import Detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector.load()
