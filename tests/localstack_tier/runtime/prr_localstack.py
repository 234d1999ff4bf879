"""The LocalStack child process of the LocalStack tier, run by ``launcher.py`` with the Python of
.venv-localstack as ``python -m prr_localstack`` (PYTHONPATH=this folder). The test run never
imports this module: its own venv has no LocalStack.

Two things on top of LocalStack's own entry point (``localstack.runtime.main``):

* LocalStack stops when the test run goes away without stopping it (killed, crashed): the
  launcher holds the write end of this process's standard input, and end-of-file becomes the
  SIGTERM that LocalStack handles as a graceful shutdown. No server outlives its test run.
* The Lambda executor ``prr-no-invoke`` (LAMBDA_RUNTIME_EXECUTOR), registered through the
  entry point in ``prr_localstack-0.dist-info``. LocalStack community has only the ``docker``
  executor, which on CreateFunction downloads its runtime init from GitHub and pulls the
  runtime's image through Docker; here neither exists, so every function would end in
  ``State: Failed`` and every UpdateFunctionConfiguration would answer 500 InternalError. The
  tier creates and reads functions and never invokes one: this executor prepares nothing (so
  functions become Active, as on AWS) and refuses to run anything.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any, NoReturn

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin

REFUSAL = (
    "the pytest-prr LocalStack tier runs no Lambda code (no Docker): functions can be created "
    "and read, not invoked"
)


class NoInvokeExecutorPlugin(RuntimeExecutorPlugin):
    """``LAMBDA_RUNTIME_EXECUTOR=prr-no-invoke``."""

    name = "prr-no-invoke"

    def load(self, *args: Any, **kwargs: Any) -> type:
        # Imported when LocalStack asks for the executor, as its own docker plugin does: the
        # Lambda provider's modules are not to be loaded before the runtime is configured.
        from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

        class NoInvokeExecutor(RuntimeExecutor):
            """Prepares every function version at once and refuses to start one."""

            def start(self, env_vars: dict[str, str]) -> NoReturn:
                raise NotImplementedError(REFUSAL)

            def stop(self) -> None:
                """Nothing was started, so nothing is stopped."""

            def get_address(self) -> NoReturn:
                raise NotImplementedError(REFUSAL)

            def get_endpoint_from_executor(self) -> NoReturn:
                raise NotImplementedError(REFUSAL)

            def get_runtime_endpoint(self) -> NoReturn:
                raise NotImplementedError(REFUSAL)

            def invoke(self, payload: dict[str, str]) -> NoReturn:
                raise NotImplementedError(REFUSAL)

            def get_logs(self) -> str:
                return ""

            @classmethod
            def prepare_version(cls, function_version: Any) -> None:
                """No runtime to install, no image to pull: the version is Active at once."""

            @classmethod
            def cleanup_version(cls, function_version: Any) -> None:
                """prepare_version left nothing behind."""

        return NoInvokeExecutor


def _stop_when_the_launcher_goes() -> None:
    # os.read, not sys.stdin: a daemon thread blocked in the buffered reader holds its lock,
    # and a LocalStack exiting on its own would then abort at interpreter shutdown.
    while os.read(0, 4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    threading.Thread(target=_stop_when_the_launcher_goes, daemon=True).start()
    from localstack.runtime.main import main as localstack_main

    localstack_main()


if __name__ == "__main__":
    main()
