"""Settings as a fresh process builds them from its environment (the test settings are fixed
once the suite starts)."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def setting_in_new_process(name: str, *, drop: tuple[str, ...] = (), **environment):
    """The setting `name` in a new process started with the suite's environment, less the
    variables in `drop`, plus `environment`."""
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env.update(environment)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            f"print(json.dumps(settings.{name}))",
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
