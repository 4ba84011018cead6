"""Configuration errors in the administrator's language: the config's `locale`, else the environment's.

Every message names the key, the value and the fix in Chinese as well as in English; nothing of
pydantic's English may leak into a Chinese message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from addon.cli import main
from addon.config import ConfigError, load_config, require_env, validate_config
from addon.service.doctor import run_checks
from addon.xl_settings import parse_settings

LATIN_WORDS = re.compile(r"\b(?:Input|should|valid|expected|unknown|must|field|Value error|did you mean|known keys)\b")


def _error(text: str, tmp_path: Path) -> ConfigError:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def _prose(message: str) -> str:
    """A message without what the user typed (quoted values, `keys`), which stays as it was written."""
    return re.sub(r"'[^']*'|`[^`]*`|\"[^\"]*\"", "", message)


BAD = {  # one broken key per kind of pydantic error the schema can raise
    "duration": ("cadence: {by_tier: {A: weekly}}", "cadence.by_tier.A = 'weekly'：应为时长，例如 7d、24h 或 2w"),
    "whole number": ("kpi: {trend_weeks: many}", "kpi.trend_weeks = 'many'：应为整数"),
    "lower bound": ("kpi: {trend_weeks: 0}", "kpi.trend_weeks = 0：不能小于 1"),
    "upper bound": ("reminders: {smtp: {port: 70000}}", "reminders.smtp.port = 70000：不能大于 65535"),
    "true/false": ("cadence: {working_days: sometimes}", "cadence.working_days = 'sometimes'：应为 true 或 false"),
    "choice": ("reminders: {transport: pigeon}", "reminders.transport = 'pigeon'：只能是 'outbox', 'smtp' 或 'console'"),
    "list": ("schedule: {at: {morning: '09:00'}}", "schedule.at：应为列表"),
    "mapping": ("source: book.xlsx", "source = 'book.xlsx'：应为一组键值"),
    "text": ("timezone: [Asia/Shanghai]", "timezone = ['Asia/Shanghai']：应为文本"),
    "missing": ("workbooks: [{source: {excel: a.xlsx}}]", "workbooks.0.name：缺少这个键（请添加）"),
    "time zone": ("timezone: Mars/Base", "timezone = 'Mars/Base'：未知的时区 'Mars/Base'；请使用 IANA 名称"),
    "time of day": ("schedule: {at: ['9am']}", "schedule.at = ['9am']：'9am' 不是 09:00 这样的时间"),
    "one source": ("source: {excel: a.xlsx, google: abc}", "`excel: 文件路径.xlsx` 与 `google: <表格 ID 或网址>` 必须且只能写一个"),
    "column field": ("columns: {customers: {colour: [Colour]}}", "columns.customers 中有未知字段 'colour'"),
    "unknown key": ("cadence: {by_teir: {A: 7d}}", "cadence.by_teir：未知的键（值 {'A': '7d'}）；是不是想写 `by_tier`？这里可用的键："),
    "short interval": ("cadence: {by_tier: {A: 1m, B: 14d, C: 30d}}", "  - cadence.by_tier.A 是 1分钟：跟进间隔至少为 1 小时（`m` 表示分钟；一个月请写 30d）"),
    "zero interval": ("cadence: {after_won: [0d, 7d]}", "  - cadence.after_won[0] 是 0天：跟进间隔至少为 1 小时"),
    "tier": ("cadence: {by_tier: {A: 7d, B: 14d, C: 30d, S: 3d}}", "cadence.by_tier 中有等级 'S'；已知等级：A、B、C"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_every_kind_of_mistake_is_explained_in_chinese(kind: str, tmp_path: Path) -> None:
    text, said = BAD[kind]
    error = _error(f"locale: zh-CN\n{text}\n", tmp_path)
    chinese = error.text()
    assert chinese.startswith("配置有误（") and said in chinese
    assert not LATIN_WORDS.search(_prose(chinese)), chinese
    english = error.text("en")  # the same error, asked for in English, is all English
    assert english.startswith("Configuration error in ") and not re.search(r"[\u4e00-\u9fff]", _prose(english).replace(str(tmp_path), ""))


def test_the_cli_answers_in_the_config_locale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("locale: zh-CN\nsource: {excel: x.xlsx}\ncadence: {by_tier: {A: weekly}}\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert f"配置有误（{config}）：\n  - cadence.by_tier.A = 'weekly'：应为时长" in capsys.readouterr().err
    config.write_text("locale: en\nsource: {excel: x.xlsx}\ncadence: {by_tier: {A: weekly}}\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert f"Configuration error in {config}:\n  - cadence.by_tier.A = 'weekly': expected a duration like 7d" in capsys.readouterr().err


@pytest.mark.parametrize(("lang", "chinese"), [("zh_CN.UTF-8", True), ("en_GB.UTF-8", False), ("C.UTF-8", True), ("", True)])
def test_without_a_locale_key_the_environment_decides(lang: str, chinese: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", lang)
    error = _error("kpi: {trend_weeks: many}\n", tmp_path)
    assert ("应为整数" in error.text()) is chinese
    assert ("Input should be a valid integer" in error.text()) is not chinese
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")  # LC_ALL wins over LANG, as for every program
    assert "Input should be a valid integer" in _error("kpi: {trend_weeks: many}\n", tmp_path).text()


def test_an_invalid_locale_value_does_not_choose_the_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    error = _error("locale: fr\n", tmp_path)
    assert error.text().startswith("Configuration error") and "locale = 'fr': Input should be 'zh-CN' or 'en'" in error.text()
    assert "locale = 'fr'：只能是 'zh-CN' 或 'en'" in error.text("zh-CN")


def test_a_file_that_is_not_yaml_is_explained_in_its_own_locale(tmp_path: Path) -> None:
    error = _error("locale: zh-CN\ncadence: {by_tier: {A: 7d}\n", tmp_path)
    assert "不是有效的 YAML（第 3 行第 1 列）" in error.text() and "请检查缩进和引号" in error.text()
    error = _error("locale: en  # English please\ncadence: [\n", tmp_path)
    assert "not valid YAML at line 3" in error.text()


def test_a_missing_file_and_a_list_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nowhere.yaml")
    assert "找不到文件" in caught.value.text("zh-CN") and "file not found" in caught.value.text("en")
    error = _error("- a\n- b\n", tmp_path)
    assert "文件内容必须是一组键值" in error.text("zh-CN")


def test_built_in_defaults_and_unset_variables_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    config = validate_config({"locale": "zh-CN", "reminders": {"smtp": {"password": "${SMTP_PASSWORD}"}}}, base_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        require_env(config, "reminders.smtp.password")
    assert caught.value.text() == (
        "配置有误（环境变量）：\n  - reminders.smtp.password：环境变量 SMTP_PASSWORD 未设置；运行前请先 export SMTP_PASSWORD=..."
    )
    with pytest.raises(ConfigError) as caught:
        load_config(None, overrides={"locale": "zh-CN", "kpi": {"window": "a month"}})
    assert caught.value.text().startswith("配置有误（内置默认配置）：")


def test_settings_tab_problems_in_both_languages() -> None:
    rows = [["source.excel", "other.xlsx"], ["cadense.due_soon", "1d"], ["kpi.window", "7d"], ["kpi.window", "14d"],
            ["reminders.smtp.password", "hunter2"]]
    with pytest.raises(ConfigError) as caught:
        parse_settings(rows, "设置")
    chinese = caught.value.text("zh-CN")
    assert chinese.startswith("配置有误（“设置”工作表）：")
    for said in ("第 1 行：source.excel：数据源总是这个工作簿", "第 2 行：未知的设置 'cadense.due_soon'；是不是想写 cadence.due_soon？",
                 "第 4 行：kpi.window 在第 3 行也设置了", "第 5 行：reminders.smtp.password：不要把密码写进工作簿"):
        assert said in chinese
    assert "hunter2" not in chinese and "hunter2" not in caught.value.text("en")
    assert "row 2: unknown setting 'cadense.due_soon'; did you mean cadence.due_soon?" in caught.value.text("en")


def test_doctor_reports_a_broken_config_in_its_locale(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("locale: zh-CN\nkpi: {trend_weeks: many}\n", encoding="utf-8")
    locale, checks = run_checks(path)
    assert locale == "zh-CN" and "kpi.trend_weeks = 'many'：应为整数" in checks[0].detail
    path.write_text("locale: en\nkpi: {trend_weeks: many}\n", encoding="utf-8")
    locale, checks = run_checks(path)
    assert locale == "en" and "kpi.trend_weeks = 'many': Input should be a valid integer" in checks[0].detail


@pytest.mark.parametrize(("argv", "zh", "en"), [
    (["run", "--bogus"], "followup：无法识别的参数：--bogus", "followup: error: unrecognized arguments: --bogus"),
    (["init"], "followup init：必须提供以下参数之一：--excel --google", "followup init: error: one of the arguments --excel --google is required"),
    (["run", "--as-of", "2026-13-01"], "followup run：参数 --as-of：'2026-13-01' 不是日期，应写作 2026-11-23",
     "followup run: error: argument --as-of: '2026-13-01' is not a date like 2026-11-23"),
    (["demo", "--lang", "fr"], "followup demo：参数 --lang：无效的取值 'fr'（可选：'zh', 'en'）",
     "followup demo: error: argument --lang: invalid choice: 'fr' (choose from 'zh', 'en')"),
    (["check", "--config"], "followup check：参数 --config/-c 需要一个值", "followup check: error: argument --config/-c: expected one argument"),
])
@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
def test_command_line_mistakes_are_told_in_the_users_language(argv, zh, en, lang, monkeypatch, capsys) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2  # a usage error, like a configuration error
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("用法：followup" if lang.startswith("zh") else "usage: followup")
    said = zh if lang.startswith("zh") else en
    assert said in err, err
    assert err[-1] == ("用法见：" if lang.startswith("zh") else "see: ") + said.split("：")[0].split(": ")[0] + " --help"


@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8", ""])
def test_help_is_in_the_users_language(lang, monkeypatch, capsys) -> None:
    """--help, like the errors, speaks the environment's language (Chinese when it says nothing)."""
    from addon.cli import HELP

    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG"):
        monkeypatch.delenv(name, raising=False)
    if lang:
        monkeypatch.setenv("LANG", lang)
    zh = not lang.startswith("en")
    for argv, keys in ((["--help"], ["demo", "run", "check", "kpi", "remind", "init", "serve", "status", "doctor"]),
                       (["run", "--help"], ["run", "config", "as_of", "json", "quiet", "run.dry_run", "run.no_send", "force"]),
                       (["init", "--help"], ["init", "init.excel", "init.google", "init.lang"])):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 0
        out = " ".join(capsys.readouterr().out.split())  # argparse wraps long English lines
        assert out.startswith("用法：followup" if zh else "usage: followup")
        assert ("显示此帮助并退出" in out) == zh and ("show this help message and exit" in out) != zh
        for key in keys:
            assert HELP[key][0 if zh else 1] in out, key
        if zh:
            assert not LATIN_WORDS.search(out) and "options" not in out and "arguments" not in out
