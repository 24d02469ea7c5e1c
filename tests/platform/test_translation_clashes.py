"""One gettext domain for the whole platform: Django merges the project catalogue and every app's
``locale/zh_Hans/LC_MESSAGES/django.po`` into one, so when two catalogues translate the same
(context, msgid) differently, one translation silently replaces the other everywhere (the project
catalogue wins, then the app listed earlier in INSTALLED_APPS). An app that means something else by a
word ("State" as a status, not the state sector) gives it a context (``pgettext_lazy``,
``{% translate "..." context "..." %}``) in its own catalogue.

The scan fails on any (context, msgid) translated differently by two catalogues, unless the msgid is in
``SAME_MEANING``: pairs judged to mean the same, only worded differently (a key with a context is
written ``"context|msgid"``). The allowlist may not hold a msgid that no longer clashes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polib
from django.template import engines
from django.utils import translation

import civicgrid

PACKAGE = Path(civicgrid.__file__).parent

# Same meaning, different wording: the merged catalogue may show either word, both are right.
SAME_MEANING = {
    "urgency": "紧迫程度/紧急程度: both 'urgency'",
    "expires": "失效时间/有效期至/到期日期: all 'expiry time'",
    "For you": "给您的/给您的事项: both 'for you'",
    "Not found in your area.": "管辖范围/辖区: both 'your area'",
    "Value": "数值/值: both 'value'",
    "Source": "数据来源/来源: both 'source'",
    "households": "户/住户数: both a number of households",
    "vulnerable": "脆弱户/困难群体: both the vulnerable households",
    "Medicine": "药品供应/药品: both the medicine category",
    "Shelter": "临时安置/安置: both the shelter category",
    "funding": "资金关系/资助: both a funding relation",
    "Registry": "登记信息/登记: both the registry",
    "Mediation": "矛盾纠纷调解/矛盾调解: both dispute mediation",
    "the grid or building where it is": "事件所在/所在: both 'the grid or building where it is'",
    "description": "描述/说明: both 'description'",
    "Description": "描述/说明: both 'description'",
    "code": "编码/编号: both an identifying code",
    "Give a rating from 1 to 5.": "评价/评分: both 'rate 1 to 5'",
    "sector": "部门类型/部门: both the sector",
    "On time": "按时办结/按时: both 'on time'",
    "overdue": "超时/已超时: both 'overdue'",
    "Due": "期限/截止/应探访日期: all the due date",
    "due": "期限/到期/应探访日期: all the due date",
    "number": "序号/编号: both a sequence number",
    "note": "备注/记录: both a free-text note",
    "published at": "公布时间/发布时间: both 'published at'",
    "This field is required.": "此项为必填项/此项必填: same sentence",
    "Your household": "您家/我家: both the user's own household",
    "vulnerable households": "脆弱户/脆弱家庭: both 'vulnerable households'",
    "Vote": "表决/投票: both 'vote'",
    "Decision": "决定/处理决定: both 'decision' (procurement's acceptance verdict has a context)",
    "what happened": "经过/发生了什么: both 'what happened'",
    "What happened": "经过/发生了什么: both 'what happened'",
    "outcome": "走访结果/结果: both the outcome of a visit (the fund's proposal outcome has a context)",
    "Outcome": "结果指标/结果: both 'outcome'",
    "reason": "原因/理由: both 'reason'",
    "Reason": "原因/理由: both 'reason'",
    "Why": "原因/理由: both 'reason'",
    "English": "英文/英语: both the English language",
    "done": "已完成/完成: both 'done'",
    "Done": "已完成/完成: both 'done'",
    "emergency": "应急/应急事件: both 'emergency'",
    "Emergency": "应急/应急事件: both 'emergency'",
    "Until": "截止/结束: both the end of a period",
    "From": "开始时间/开始/起始日期: all the start of a period (the time bank's transfer has a context)",
    "Change": "变化/变动: both 'change'",
    "Funder": "出资方/资助方: both 'funder'",
    "funder": "出资方/资助方: both 'funder'",
    "received": "已到账/已接收: both 'received'",
    "received on": "收到日期/到账日期: both 'received on'",
    "created at": "创建时间/设立时间: both 'created at'",
    "No grids in your area.": "范围/辖区: both 'your area'",
    "No such household in your area.": "该住户/这一户: same sentence",
    "Record": "记录/登记: both the button 'record'",
    "Household code": "住户编码/户编码/住户编号: all the household code",
    "Enter": "录入/提交: both the button that submits typed data",
    "Filed": "提交时间/登记时间: both 'filed at'",
    "name": "名称/姓名: both 'name'",
    "Name": "姓名/名称: both 'name'",
    "Your role may not do this.": "进行/执行: same sentence",
    "funding recorded": "已登记资助/资助已记录: same message",
    "Organisation": "社会组织/组织: both the social organisation",
    "organisation": "社会组织/组织: both the social organisation",
    "Reject": "退回/驳回: both 'reject'",
    "score": "评分/得分: both 'score'",
    "Applications": "申报/申请: both 'applications'",
    "active": "启用/在岗: both 'active' (in service)",
    "Any status": "全部状态/任何状态: both 'any status'",
    "what was done": "所做工作/服务内容: both 'what was done'",
    "since": "始于/开始日期: both 'since'",
}


def catalogues() -> list[Path]:
    return sorted(PACKAGE.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def clashes() -> dict[str, dict[str, str]]:
    """Keyed ``msgid`` (or ``context|msgid``): {catalogue: translation} where they differ."""
    seen: dict[tuple[str | None, str], dict[str, str]] = defaultdict(dict)
    for path in catalogues():
        name = path.relative_to(PACKAGE).parts[0]
        for entry in polib.pofile(str(path)):
            if entry.msgstr and not entry.obsolete:
                seen[(entry.msgctxt, entry.msgid)][name] = entry.msgstr
    return {(msgid if context is None else f"{context}|{msgid}"): by
            for (context, msgid), by in seen.items() if len(set(by.values())) > 1}


def test_the_scan_reads_every_catalogue() -> None:
    names = {path.relative_to(PACKAGE).parts[0] for path in catalogues()}
    assert {"locale", "council", "volunteers", "relief", "mediation", "fund", "ops"} <= names


def test_no_two_catalogues_translate_a_msgid_differently() -> None:
    found = clashes()
    unexplained = {key: by for key, by in found.items() if key not in SAME_MEANING}
    assert not unexplained, ("these msgids are translated differently by two catalogues; give the app that "
                             "means something else a context (pgettext_lazy / translate ... context), or, if "
                             f"the meaning is the same, add them to SAME_MEANING: {unexplained}")


def test_the_allowlist_holds_only_live_clashes() -> None:
    stale = sorted(set(SAME_MEANING) - set(clashes()))
    assert not stale, f"no longer translated differently; remove from SAME_MEANING: {stale}"


def test_each_app_shows_its_own_meaning() -> None:
    expected = [
        (None, "State", "国家"),  # the project catalogue: the state sector
        ("status", "State", "状态"),  # council, volunteers
        (None, "minutes", "会议纪要"),  # council
        ("duration", "minutes", "分钟"),  # volunteers
        ("duration", "Minutes", "分钟"),
        (None, "From", "起始日期"),  # registry
        ("transfer", "From", "转出"),  # volunteers' time bank
        ("transfer", "To", "转入"),
        ("hour", "from", "起"),
        (None, "Open", "待分配"),  # relief
        ("fund round", "Open", "设立"),
        ("mediation case", "Open", "立案"),
        ("care visit", "Open", "发布"),
        (None, "Failed", "未送达"),  # relief
        ("job", "Failed", "失败"),  # ops
        (None, "property management", "物业公司"),  # council
        ("dispute category", "property management", "物业纠纷"),  # mediation
        (None, "Day", "日期"),  # emergency
        ("simulation", "Day", "第几天"),
        (None, "verified", "已核查"),  # cases
        ("verification", "verified", "已认证"),  # social
        (None, "closed", "已结案"),  # cases
        ("meeting state", "closed", "已结束"),
        ("poll state", "closed", "已结束"),
        (None, "open", "待处理"),  # social
        ("poll state", "open", "进行中"),
        (None, "comment", "评价"),  # cases
        ("clause", "comment", "意见"),  # council
        ("clause", "Comment", "提意见"),
        (None, "Signed", "签订日期"),  # procurement
        ("agreement", "Signed", "签署"),  # mediation
        (None, "Record the visit", "提交走访结果"),  # emergency
        ("care visit", "Record the visit", "记录探访"),  # volunteers
        ("follow-up", "Record the visit", "记录回访"),  # mediation
        ("acceptance", "Decision", "验收结论"),  # procurement
        ("acceptance", "decided at", "验收时间"),
        ("acceptance", "decided by", "验收人"),
        (None, "decided at", "决定时间"),  # social
        ("vote", "yes", "同意"),  # council
        ("vote", "no", "反对"),
        (None, "yes", "是"),
        (None, "no", "否"),
        (None, "By", "按"),  # cases
        ("person", "By", "经办人"),  # relief's ledger
        (None, "item", "事项"),  # emergency
        ("supply", "item", "物资"),  # relief
        ("availability", "Available", "可服务时间"),  # volunteers
        (None, "Available", "可用"),  # relief
        ("fund round", "No rounds yet.", "暂无轮次。"),
        (None, "No rounds yet.", "暂无分配轮次。"),  # relief
        ("money", "Ledger", "台账"),  # fund
        ("proposal", "outcome", "结果"),  # fund
        ("population group", "Vulnerable households", "脆弱户"),  # fund
        ("alert audience", "Vulnerable households", "困难群体住户"),  # alerts
    ]
    with translation.override("zh-hans"):
        shown = [(context, msgid, translation.gettext(msgid) if context is None
                  else translation.pgettext(context, msgid)) for context, msgid, _ in expected]
    assert shown == expected


def test_templates_and_models_use_the_context() -> None:
    from civicgrid.council.models import Poll, Vote
    from civicgrid.mediation.models import MediationCase

    with translation.override("zh-hans"):
        html = engines["django"].from_string(
            '{% load i18n %}{% translate "State" context "status" %}|{% translate "From" context "transfer" %}'
        ).render({})
        assert html == "状态|转出"
        assert str(Vote.Choice.YES.label) == "同意"
        assert str(Poll.State.OPEN.label) == "进行中"
        assert str(MediationCase.Category.PROPERTY.label) == "物业纠纷"
