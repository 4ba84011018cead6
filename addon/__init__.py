"""Follow-up Add-on (跟进助手): your sales spreadsheet, with a CRM's follow-up module on top.

Library use mirrors the CLI:

    from addon import load_config, run, check
    result = run(load_config("config.yaml"), as_of=date(2026, 11, 23))
    print(result.summary())
"""

from addon.config import Config, ConfigError, load_config
from addon.pipeline import RunResult, check, remind, run

__all__ = ["Config", "ConfigError", "RunResult", "check", "load_config", "remind", "run"]
__version__ = "0.1.0"
