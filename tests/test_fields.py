"""Field and tab vocabulary: which language a workbook speaks, judged by its tab names."""

from __future__ import annotations

from addon.core.fields import workbook_locale


def test_workbook_locale_is_judged_by_the_data_tabs() -> None:
    assert workbook_locale(["客户", "跟进记录"]) == "zh-CN"
    assert workbook_locale(["Customers", "FollowUps", "说明"]) == "en"  # a Chinese note tab does not decide
    assert workbook_locale(["客户", "FollowUps"]) == "zh-CN"
    assert workbook_locale(["Sheet1", "说明"]) == "zh-CN" and workbook_locale(["Sheet1"]) == "en"
