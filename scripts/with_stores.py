"""Run a command with PostgreSQL and Redis available (found or embedded): `with_stores.py CMD...`."""

import os
import subprocess
import sys

from stores import stores_env


def main() -> int:
    env = {**os.environ, **stores_env(redis_db=15)}
    return subprocess.call(sys.argv[1:], env=env)


if __name__ == "__main__":
    sys.exit(main())
