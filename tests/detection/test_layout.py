"""The runtime a server imports is the serving half of warden/detection, never the training half."""

import json
import subprocess
import sys

CODE = """
import json, sys
import warden.api.app, warden.cases.runtime
from warden.detection import get_detector
get_detector().score("we will find you tonight")
print(json.dumps(sorted(sys.modules)))
"""


def test_server_imports_no_training_module():
    loaded = json.loads(subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                                       check=True).stdout)
    assert "warden.detection.detector" in loaded
    assert not [m for m in loaded if m.startswith("warden.detection.training")]
    assert not {"torch", "sklearn", "transformers"} & set(loaded)
