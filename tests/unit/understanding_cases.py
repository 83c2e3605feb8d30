"""Typed booking requests and what ``understand`` must make of them.

Written by hand, the way the service centre's phone and chat receive them: colloquial, with
typos, with parts missing, with contradictions. Every request is read at NOW, Tuesday
1 December 2026, 09:00 in Asia/Shanghai, against examples/site.toml.

``expect`` lists every field the request states; a field not listed must stay unset. Keys:

- ``date`` "2026-12-02"; ``start``/``end`` "14:00" (the site's clock); ``duration`` minutes
- ``attendees``, ``room`` (room id), ``layout``, ``level``, ``title``, ``confidential``,
  ``department``, ``contact_name``, ``contact_phone``, ``notes``
- ``services`` {service id: {detail key: value}} (details not listed must stay unset)
- ``declined`` [service ids said not to be wanted]
- ``problems`` [problem codes that must be reported; no other code may be]
- ``ambiguous`` [fields that must be left unset as ambiguous]

``score`` compares one result with its case: every expected item found is a point; a value
that differs from the expected one, or one that is set where none was said, is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.understanding import Understanding

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE).astimezone(UTC)


@dataclass(frozen=True)
class Case:
    text: str
    expect: dict[str, Any]
    note: str = ""

    @property
    def language(self) -> str:
        return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in self.text) else "en"


ZH_CASES = [
    Case(
        '明天上午9点到11点 203会议厅 120人 要茶水、会标"年度工作会议"、4个话筒',
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "attendees": 120,
            "room": "r203",
            "services": {"tea": {}, "banner": {"text": "年度工作会议"}, "microphones": {"count": 4}},
        },
        "the issue's example",
    ),
    Case(
        "下周三下午两点到四点在第一会议室开会，大概十二人",
        {"date": "2026-12-09", "start": "14:00", "end": "16:00", "room": "r101", "attendees": 12},
        "jionlp quirk: 下午两点到四点 ends at 04:00",
    ),
    Case(
        "你好，我是财务处的，想订后天上午九点半至十一点半的接待室，15人左右，"
        "需要茶水和鲜花，联系人王敏 13812345678",
        {
            "date": "2026-12-03",
            "start": "09:30",
            "end": "11:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 15,
            "services": {"tea": {}, "flowers": {}},
            "department": "finance",
            "contact_name": "王敏",
            "contact_phone": "13812345678",
        },
        "jionlp quirk: 十一点半 read as the 十一 holiday",
    ),
    Case(
        "明天下午2点开始4点结束，301，40人，课堂式，要投影仪和2个无线话筒",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r301",
            "attendees": 40,
            "layout": "classroom",
            "services": {"projector": {}, "microphones": {"count": 2}},
        },
    ),
    Case(
        "周五上午10点 电视电话会议厅 视频会议 80人 需要录音录像 保密会议",
        {
            "date": "2026-12-04",
            "start": "10:00",
            "room": "vc1",
            "attendees": 80,
            "services": {"recording": {}, "video": {}},
            "confidential": True,
        },
    ),
    Case(
        "12月8日下午3点到5点半 203会议厅 戏院式 200人 一级接待 主席台7人 会标：2026年度安全生产工作会议",
        {
            "date": "2026-12-08",
            "start": "15:00",
            "end": "17:30",
            "room": "r203",
            "layout": "theatre",
            "attendees": 200,
            "level": 1,
            "services": {"rostrum": {"seats": 7}, "banner": {"text": "2026年度安全生产工作会议"}},
        },
    ),
    Case(
        "明天两点到四点用一下一号会议室，8个人",
        {"date": "2026-12-02", "start": "14:00", "end": "16:00", "room": "r101", "attendees": 8},
        "bare hours: office hours",
    ),
    Case(
        "明天11点到9点 接待室",
        {"date": "2026-12-02", "room": "r102", "layout": "discussion", "problems": ["end_before_start"]},
        "contradiction",
    ),
    Case(
        "后天上午开个会，30人左右，要U型的桌子",
        {"date": "2026-12-03", "attendees": 30, "layout": "u_shape"},
        "no clock time",
    ),
    Case(
        "下周一早上8点半到10点，第一会议室，座谈，10人，不要鲜花，茶水要",
        {
            "date": "2026-12-07",
            "start": "08:30",
            "end": "10:00",
            "room": "r101",
            "layout": "discussion",
            "attendees": 10,
            "services": {"tea": {}},
            "declined": ["flowers"],
        },
        "jionlp quirk: 8点半到10点 as two points",
    ),
    Case(
        "麻烦帮忙订个会议室，明天下午三点，大概二三十人",
        {"date": "2026-12-02", "start": "15:00", "problems": ["count_vague"]},
        "a count that is not one number",
    ),
    Case(
        "12月28号下午两点半到五点 301课堂式会议室 60人 要签到台、指引标识、瓶装水",
        {
            "date": "2026-12-28",
            "start": "14:30",
            "end": "17:00",
            "room": "r301",
            "attendees": 60,
            "services": {"sign_in": {}, "signage": {}, "bottled_water": {}},
        },
    ),
    Case(
        "今晚7点到9点 接待室 20人",
        {
            "date": "2026-12-01",
            "start": "19:00",
            "end": "21:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 20,
        },
        "今晚 spelled out for jionlp",
    ),
    Case(
        "明早9点开会两个小时，第一会议室，6人",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "duration": 120,
            "room": "r101",
            "attendees": 6,
        },
        "jionlp quirk: 明早 is today",
    ),
    Case(
        "下周二 203 开职工代表大会 300人 二级接待 需要停车位10个 贵宾室",
        {
            "date": "2026-12-08",
            "room": "r203",
            "attendees": 300,
            "level": 2,
            "services": {"parking": {"spaces": 10}, "vip_lounge": {}},
        },
    ),
    Case(
        "11月28日上午在203开会",
        {"room": "r203", "problems": ["date_passed"]},
        "a date three days ago: a slip, asked",
    ),
    Case(
        "明天上午9点 第一会议室 和 接待室 都行 10人",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "attendees": 10,
            "problems": ["two_rooms"],
            "ambiguous": ["room_id"],
        },
    ),
    Case(
        "下周三上午10点到12点，会议主题：2027年预算编制布置会，发展规划处，50人，301",
        {
            "date": "2026-12-09",
            "start": "10:00",
            "end": "12:00",
            "title": "2027年预算编制布置会",
            "department": "planning",
            "attendees": 50,
            "room": "r301",
        },
    ),
    Case(
        "后天下午 5楼会议室 15人",
        {"date": "2026-12-03", "attendees": 15, "problems": ["unknown_room"]},
    ),
    Case(
        "明天下午2点到4点，第一会议室，25人",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 25,
            "problems": ["over_capacity"],
        },
    ),
    Case(
        "周四上午九点到十一点 接待室 10人 铭牌：张伟、李娜、王强",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "end": "11:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 10,
            "services": {"nameplates": {"names": "张伟、李娜、王强"}},
        },
    ),
    Case(
        "明天下午三点半 电视电话会议厅 开视频会 要录像 不需要保密",
        {
            "date": "2026-12-02",
            "start": "15:30",
            "room": "vc1",
            "services": {"video": {}},
            "confidential": False,
        },
    ),
    Case(
        "12月3日（周五）上午10点 301 40人",
        {
            "start": "10:00",
            "room": "r301",
            "attendees": 40,
            "problems": ["date_weekday_mismatch"],
            "ambiguous": ["date"],
        },
        "jionlp quirk: the weekday is ignored; 3 December is a Thursday",
    ),
    Case(
        "今天下午四点到六点 第一会议室 5人 要投影",
        {
            "date": "2026-12-01",
            "start": "16:00",
            "end": "18:00",
            "room": "r101",
            "attendees": 5,
            "services": {"projector": {}},
        },
    ),
    Case(
        "明天上午8点到10点半 203会议厅 宴会式 100人 鲜花 摄影 需要每15分钟续水",
        {
            "date": "2026-12-02",
            "start": "08:00",
            "end": "10:30",
            "room": "r203",
            "layout": "banquet",
            "attendees": 100,
            "services": {"flowers": {}, "photography": {}, "tea": {"refill_minutes": 15}},
        },
    ),
    Case(
        "明天下五3点 第一会意室 10人",
        {"date": "2026-12-02", "start": "15:00", "attendees": 10},
        "typos: 下五 for 下午, 会意室 for 会议室",
    ),
    Case(
        "星期五下午2点-4点 一号会议室 开会 人数12 要白板",
        {"date": "2026-12-04", "start": "14:00", "end": "16:00", "room": "r101", "attendees": 12},
        "白板 is no service of this site",
    ),
    Case(
        "大后天上午十点，接待室，五位客人，要茶",
        {
            "date": "2026-12-04",
            "start": "10:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 5,
            "services": {"tea": {}},
        },
    ),
    Case(
        "下周四全天 203会议厅 培训 150人 课堂式 需要投影和4个话筒 二级接待",
        {
            "date": "2026-12-10",
            "room": "r203",
            "attendees": 150,
            "layout": "classroom",
            "level": 2,
            "services": {"projector": {}, "microphones": {"count": 4}},
        },
    ),
    Case(
        "每周一上午9点 第一会议室 例会 8人",
        {"room": "r101", "attendees": 8, "date": "2026-12-07", "start": "09:00"},
        "a series: its first meeting is the next Monday (the rule: test_understanding_recurrence)",
    ),
    Case(
        "后天上午9点到11点，203会议厅，300人，会标“第十二届职工代表大会”，主席台15个座位，接待级别：1级，"
        "联系人：李强，电话：0571-87654321",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 300,
            "services": {"banner": {"text": "第十二届职工代表大会"}, "rostrum": {"seats": 15}},
            "level": 1,
            "contact_name": "李强",
            "contact_phone": "0571-87654321",
        },
        "numerals inside the banner text are kept as typed",
    ),
    Case(
        "7点到9点 接待室",
        {"room": "r102", "layout": "discussion", "problems": ["am_or_pm"], "ambiguous": ["start_time"]},
        "7 could be morning or evening",
    ),
    Case(
        "明天上午十点 102 开会 20-30人",
        {
            "date": "2026-12-02",
            "start": "10:00",
            "room": "r102",
            "layout": "discussion",
            "problems": ["count_range"],
            "ambiguous": ["attendees"],
        },
    ),
    Case(
        "周一下午3点，接待室，8位，保密，不要摆花",
        {
            "date": "2026-12-07",
            "start": "15:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 8,
            "confidential": True,
            "declined": ["flowers"],
        },
        "jionlp quirk: 周一 on a Tuesday is yesterday",
    ),
    # ---- second batch: written before the engine had read them (first run: docs/understanding.md)
    Case(
        "王处长让我订一下明天下午3点到5点的203会议厅，大概150人，要横幅，写“2026年度总结表彰大会”",
        {
            "date": "2026-12-02",
            "start": "15:00",
            "end": "17:00",
            "room": "r203",
            "attendees": 150,
            "services": {"banner": {"text": "2026年度总结表彰大会"}},
        },
    ),
    Case(
        "后天早上九点 视频会议厅 45人 要话筒三个",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "room": "vc1",
            "attendees": 45,
            "services": {"microphones": {"count": 3}},
        },
    ),
    Case(
        "周三下午两点半 接待室 来访客人6位 准备茶水水果",
        {
            "date": "2026-12-02",
            "start": "14:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 6,
            "services": {"tea": {}},
        },
    ),
    Case(
        "12月10号 上午9:00-11:30 301 培训 80人 课桌式 投影仪 麦克风2个",
        {
            "date": "2026-12-10",
            "start": "09:00",
            "end": "11:30",
            "room": "r301",
            "attendees": 80,
            "layout": "classroom",
            "services": {"projector": {}, "microphones": {"count": 2}},
        },
    ),
    Case(
        "明天上午十点到十二点，办公室要用第一会议室开个小会，5个人",
        {
            "date": "2026-12-02",
            "start": "10:00",
            "end": "12:00",
            "department": "office",
            "room": "r101",
            "attendees": 5,
        },
    ),
    Case(
        "下下周一上午 203会议厅 200人 戏院式",
        {"date": "2026-12-14", "room": "r203", "attendees": 200, "layout": "theatre"},
    ),
    Case(
        "明天下午4点 接待室，开一个半小时",
        {
            "date": "2026-12-02",
            "start": "16:00",
            "end": "17:30",
            "duration": 90,
            "room": "r102",
            "layout": "discussion",
        },
    ),
    Case(
        "本周五晚上六点半到八点半 一号会议室 12人 保密",
        {
            "date": "2026-12-04",
            "start": "18:30",
            "end": "20:30",
            "room": "r101",
            "attendees": 12,
            "confidential": True,
        },
    ),
    Case(
        "订会议室：时间12月5日上午9点，人数40人，地点301，要签到台",
        {
            "date": "2026-12-05",
            "start": "09:00",
            "attendees": 40,
            "room": "r301",
            "services": {"sign_in": {}},
        },
    ),
    Case(
        "明天上午9点到11点 203会议厅 120人，不要录像，要录音",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 120,
            "services": {"recording": {}},
            "declined": ["video"],
        },
    ),
    Case(
        "明天下午三点到下午两点 第一会议室",
        {"date": "2026-12-02", "room": "r101", "problems": ["end_before_start"]},
    ),
    Case("后天 贵宾接待室 10人", {"date": "2026-12-03", "attendees": 10, "problems": ["unknown_room"]}),
    Case(
        "下周五上午9点半 电视电话会议厅 60人 三级接待 摄影 鲜花",
        {
            "date": "2026-12-11",
            "start": "09:30",
            "room": "vc1",
            "attendees": 60,
            "level": 3,
            "services": {"photography": {}, "flowers": {}},
        },
    ),
    Case(
        "1月8日下午2点到4点 301 开年终总结会 70人",
        {"date": "2027-01-08", "start": "14:00", "end": "16:00", "room": "r301", "attendees": 70},
    ),
    Case(
        "明天中午12点到1点半 接待室 工作午餐 8人",
        {
            "date": "2026-12-02",
            "start": "12:00",
            "end": "13:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 8,
        },
    ),
    Case(
        "周四 下午 2点 到 4点 第一会议室 10人 要铭牌",
        {
            "date": "2026-12-03",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "services": {"nameplates": {}},
        },
    ),
    Case("明天上午或者下午都可以，203，100人", {"date": "2026-12-02", "room": "r203", "attendees": 100}),
    Case(
        "12月2日和12月3日 两天 301 50人",
        {"room": "r301", "attendees": 50, "problems": ["two_dates"], "ambiguous": ["date"]},
    ),
    Case(
        "明天下午两点，第一会议室，会议名称：季度经营分析会，15人，要矿泉水",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "room": "r101",
            "title": "季度经营分析会",
            "attendees": 15,
            "services": {"bottled_water": {}},
        },
    ),
    Case(
        "请安排后天上午9点至12点203会议厅，宴会式，需要停车位5个、贵宾休息室，接待级别二级",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "end": "12:00",
            "room": "r203",
            "layout": "banquet",
            "services": {"parking": {"spaces": 5}, "vip_lounge": {}},
            "level": 2,
        },
    ),
    # ---- regressions found by probing
    Case(
        "时间：12月3日 14:00—16:00，地点：第一会议室，人数：12人，会标：无",
        {
            "date": "2026-12-03",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 12,
            "declined": ["banner"],
        },
        "「会标：无」 is no banner, not a banner reading 无",
    ),
    Case(
        "主席台就座5人，台下100人，明天上午9点 203",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "room": "r203",
            "attendees": 100,
            "services": {"rostrum": {"seats": 5}},
        },
    ),
    Case(
        "订明天下午的203，3点到5点，300人",
        {"date": "2026-12-02", "start": "15:00", "end": "17:00", "room": "r203", "attendees": 300},
        "jionlp quirk: an ASCII comma (after folding) loses the date before it",
    ),
    Case(
        "下午两点至四点 三楼会议室",
        {"start": "14:00", "end": "16:00", "problems": ["unknown_room"], "ambiguous": ["room_id"]},
        "jionlp quirk: 「四点 3楼」 ends at 16:03; the floor's rooms are offered, not chosen",
    ),
    Case(
        "明天上午9点到11点 第一会议室 10人 另外后天同一时间再订一次",
        {
            "start": "09:00",
            "end": "11:00",
            "room": "r101",
            "attendees": 10,
            "problems": ["two_dates"],
            "ambiguous": ["date"],
        },
        "「同一时间」 is not 「同1时」",
    ),
    Case(
        "明天能不能早一点开 203",
        {"date": "2026-12-02", "room": "r203"},
        "jionlp quirk: 「早一点」 (a little earlier) is 01:00",
    ),
    Case(
        "明天下午2点到4点 第一会议室 茶水每半小时续一次",
        {"date": "2026-12-02", "start": "14:00", "end": "16:00", "room": "r101", "services": {"tea": {}}},
        "jionlp quirk: the interval turns the whole time into a series",
    ),
    Case(
        "明天下午2点到4点 第一会议室 每隔1小时续水",
        {"date": "2026-12-02", "start": "14:00", "end": "16:00", "room": "r101", "services": {"tea": {}}},
        "jionlp quirk: the interval reads as the meeting's length",
    ),
    Case(
        "下周末 203",
        {"room": "r203"},
        "jionlp quirk: a weekend is its Sunday",
    ),
    Case(
        "明天下午3点的会改到4点",
        {"date": "2026-12-02", "problems": ["two_times"], "ambiguous": ["start_time"]},
        "a change of an existing booking: never read as 15:00-16:00",
    ),
    Case(
        "明天下午两点到四点 第一会议室 10人 会议主题：季度预算评审 需要投影仪",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "title": "季度预算评审",
            "services": {"projector": {}},
        },
        "a space ends a Chinese title as a comma does",
    ),
    Case(
        "会议主题：AI 赋能培训 明天上午9点到11点 203会议厅 80人",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 80,
            "title": "AI 赋能培训",
        },
        "a space next to a Latin word is the title's own",
    ),
    # ---- dates that do not exist are asked, never moved to another month or year ----------
    Case(
        "第一会议室 2026年2月30日 下午2点到4点 10人",
        {"start": "14:00", "end": "16:00", "room": "r101", "attendees": 10, "problems": ["no_such_date"]},
        "jionlp quirk: 2月30日 is 30 December",
    ),
    Case(
        "2027年2月30日上午9点到11点 203会议厅 50人",
        {"start": "09:00", "end": "11:00", "room": "r203", "attendees": 50, "problems": ["no_such_date"]},
    ),
    Case(
        "4月31日下午3点 接待室 6人",
        {
            "start": "15:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 6,
            "problems": ["no_such_date"],
        },
        "jionlp quirk: 4月31日 is 31 December",
    ),
    Case(
        "二月三十日下午两点到四点 第一会议室",
        {"start": "14:00", "end": "16:00", "room": "r101", "problems": ["no_such_date"]},
    ),
    Case(
        "2026-13-01 下午2点 第一会议室 8人",
        {"start": "14:00", "room": "r101", "attendees": 8, "problems": ["no_such_date"]},
        "jionlp reads 2026 alone as the whole year",
    ),
    Case(
        "明天后天都可以 203会议厅 10人",
        {"room": "r203", "attendees": 10},
        "jionlp quirk: 「明天后」 is an open span ending at inf (it crashed the reader)",
    ),
    Case(
        "明天下午2点以后 第一会议室 8人",
        {"room": "r101", "attendees": 8},
        "jionlp quirk: 「2点以后」 is an open span: no date, no time",
    ),
    Case(
        "2月29日上午9点 203会议厅",
        {"start": "09:00", "room": "r203", "problems": ["no_such_date"]},
        "jionlp quirk: the next February has no 29th, so it is 29 December",
    ),
    # ---- every detail cue ends where the request goes on -------------------------------------
    Case(
        "接待室 明天上午10点到11点 6人 铭牌：A<B、C&D",
        {
            "date": "2026-12-02",
            "start": "10:00",
            "end": "11:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 6,
            "services": {"nameplates": {"names": "A<B、C&D"}},
        },
        "a list of names goes on over 、; < and & are kept",
    ),
    Case(
        "周四上午9点到11点 接待室 桌牌：张伟、李娜 8人 要茶水",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "end": "11:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 8,
            "services": {"nameplates": {"names": "张伟、李娜"}, "tea": {}},
        },
        "the list ends at a space before the count",
    ),
    Case(
        "明天下午2点到4点 第一会议室 席卡：张伟，李娜，王强，10人，要投影仪",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "services": {"nameplates": {"names": "张伟，李娜，王强"}, "projector": {}},
        },
        "names go on over commas; the count after them does not",
    ),
    Case(
        "明天下午2点到4点 第一会议室 会标：年度工作会议 10人 需要投影仪",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "services": {"banner": {"text": "年度工作会议"}, "projector": {}},
        },
        "a space ends a banner text as it ends a title",
    ),
    Case(
        "明天下午2点到4点 203会议厅 横幅：安全生产动员大会　80人　要茶水",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r203",
            "attendees": 80,
            "services": {"banner": {"text": "安全生产动员大会"}, "tea": {}},
        },
        "the ideographic space too",
    ),
    Case(
        "会标：年度工作会议；明天下午2点到4点，第一会议室，10人",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "services": {"banner": {"text": "年度工作会议"}},
        },
    ),
    Case(
        "明天上午9点到11点 203会议厅 会标「第十二届职工代表大会」 100人 要茶水",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 100,
            "services": {"banner": {"text": "第十二届职工代表大会"}, "tea": {}},
        },
        "a quoted banner keeps reading as before",
    ),
    Case(
        "会议名称：季度经营分析会。明天下午两点到四点 第一会议室 15人",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 15,
            "title": "季度经营分析会",
        },
    ),
    Case(
        "明天下午2点到4点 第一会议室 备注：请提前30分钟开门 10人 要茶水",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "notes": "请提前30分钟开门",
            "services": {"tea": {}},
        },
        "the notes are kept as typed; their 30 minutes are not the meeting's length",
    ),
    Case(
        "联系人：王敏 电话：13812345678 10人 明天下午2点到4点 第一会议室",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "contact_name": "王敏",
            "contact_phone": "13812345678",
        },
        "a phone number does not take the count after it",
    ),
    Case(
        "明天下午2点到4点 第一会议室 联系人：王敏，电话：0571-87654321。12人",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 12,
            "contact_name": "王敏",
            "contact_phone": "0571-87654321",
        },
    ),
]

EN_CASES = [
    Case(
        "Conference room for 12 tomorrow 2-4pm with tea and a projector",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "attendees": 12,
            "services": {"tea": {}, "projector": {}},
        },
        "the issue's example",
    ),
    Case(
        "Need hall 203 next Wednesday from 9 to 11am, 40 people, reception level 2",
        {
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 40,
            "level": 2,
            "ambiguous": ["date"],
        },
        "next Wednesday on a Tuesday: tomorrow or the 9th?",
    ),
    Case(
        "Can I book the reception room on Dec 3 at 10 for two hours? About 8 people, tea please.",
        {
            "date": "2026-12-03",
            "start": "10:00",
            "end": "12:00",
            "duration": 120,
            "room": "r102",
            "layout": "discussion",
            "attendees": 8,
            "services": {"tea": {}},
        },
        "dateparser's search_dates reads 'on Dec 3 at 10' as the year 2110",
    ),
    Case(
        "tomorrow 11 to 9 in room 101",
        {"date": "2026-12-02", "room": "r101", "problems": ["end_before_start"]},
        "contradiction",
    ),
    Case(
        "Hi, Alice from the General Office here. Could we have Meeting Room 1 on Friday 2:30-4pm for 10? "
        "Discussion layout, and water please.",
        {
            "date": "2026-12-04",
            "start": "14:30",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "layout": "discussion",
            "services": {"water": {}},
            "department": "office",
        },
    ),
    Case(
        "Book room 301 on Monday 9am-12pm, classroom style, 60 attendees, projector and 2 wireless mics",
        {
            "date": "2026-12-07",
            "start": "09:00",
            "end": "12:00",
            "room": "r301",
            "layout": "classroom",
            "attendees": 60,
            "services": {"projector": {}, "microphones": {"count": 2}},
        },
        "dateparser quirk: a bare weekday is last week's",
    ),
    Case(
        "Video conference hall, Thursday afternoon 3 to 5, 50 ppl, need video recording and sound recording, "
        "this is confidential",
        {
            "date": "2026-12-03",
            "start": "15:00",
            "end": "17:00",
            "room": "vc1",
            "attendees": 50,
            "services": {"video": {}, "recording": {}},
            "confidential": True,
        },
    ),
    Case(
        "We'd like hall 203 on 12/15 from 1:30 to 5pm, theatre layout, 250 people, banner reading "
        '"2027 Strategy Kick-off", level 1 reception, rostrum for 8',
        {
            "date": "2026-12-15",
            "start": "13:30",
            "end": "17:00",
            "room": "r203",
            "layout": "theatre",
            "attendees": 250,
            "level": 1,
            "services": {"banner": {"text": "2027 Strategy Kick-off"}, "rostrum": {"seats": 8}},
        },
    ),
    Case(
        "room for 6 tmrw at 3",
        {"date": "2026-12-02", "start": "15:00", "attendees": 6},
        "short form tmrw; bare 3 is 15:00",
    ),
    Case(
        "Reception room this Friday 10-11:30 for 5 visitors, flowers and nameplates",
        {
            "date": "2026-12-04",
            "start": "10:00",
            "end": "11:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 5,
            "services": {"flowers": {}, "nameplates": {}},
        },
    ),
    Case(
        "Meeting on Tuesday 2-4pm in room 101, 8 people",
        {"start": "14:00", "end": "16:00", "room": "r101", "attendees": 8, "ambiguous": ["date"]},
        "Tuesday said on a Tuesday: today or next week?",
    ),
    Case(
        "Need a room tomorrow morning for 20 people",
        {"date": "2026-12-02", "attendees": 20},
        "a morning is not a start time",
    ),
    Case(
        "Hall 203 on Dec 10, 9am to 5pm, 300 delegates, banquet layout",
        {
            "date": "2026-12-10",
            "start": "09:00",
            "end": "17:00",
            "room": "r203",
            "attendees": 300,
            "layout": "banquet",
        },
    ),
    Case(
        "next monday 10am, meeting room 1, 12 people, U-shape, projector",
        {
            "date": "2026-12-07",
            "start": "10:00",
            "room": "r101",
            "attendees": 12,
            "layout": "u_shape",
            "services": {"projector": {}},
        },
    ),
    Case(
        "Could I get room 505 tomorrow 3-5pm for 15?",
        {
            "date": "2026-12-02",
            "start": "15:00",
            "end": "17:00",
            "attendees": 15,
            "problems": ["unknown_room"],
        },
    ),
    Case(
        "Tomorow 9-10:30 reception room, 4 ppl, bottled water",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "10:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 4,
            "services": {"bottled_water": {}},
        },
        "typo: dateparser does not read 'tomorow'",
    ),
    Case(
        "Book the video conference hall on Wensday 2pm for an hour and a half, 30 people",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "15:30",
            "duration": 90,
            "room": "vc1",
            "attendees": 30,
        },
        "typo: Wensday",
    ),
    Case(
        "Hall 203 tomorrow 2-4pm, 20 people. Actually make it 25 people.",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r203",
            "problems": ["two_counts"],
            "ambiguous": ["attendees"],
        },
    ),
    Case(
        "I need room 301 on Jan 5 from 9 to 12, 80 people, classroom",
        {
            "date": "2027-01-05",
            "start": "09:00",
            "end": "12:00",
            "room": "r301",
            "attendees": 80,
            "layout": "classroom",
        },
        "a yearless date in the past is next year's",
    ),
    Case(
        "Meeting room 1, Nov 28, 10am",
        {"room": "r101", "start": "10:00", "problems": ["date_passed"]},
        "three days ago: a slip, asked",
    ),
    Case(
        "Room 101 tomorrow 10am, no flowers, no tea, just water",
        {
            "date": "2026-12-02",
            "start": "10:00",
            "room": "r101",
            "services": {"water": {}},
            "declined": ["flowers", "tea"],
        },
    ),
    Case(
        "Reception room on Thursday the 3rd at 10:30am for 6",
        {"date": "2026-12-03", "start": "10:30", "room": "r102", "layout": "discussion", "attendees": 6},
        "dateparser quirk: 'thursday the 3rd' is 1 March",
    ),
    Case(
        "Friday 4th December 2pm-3pm room 101 12 pax",
        {"date": "2026-12-04", "start": "14:00", "end": "15:00", "room": "r101", "attendees": 12},
    ),
    Case(
        "Could we book Hall 203 for the 'Annual Budget Review' meeting on December 17, 9:30 to 11:30, "
        "about 120 "
        "people, with a banner, 6 mics and photography",
        {
            "date": "2026-12-17",
            "start": "09:30",
            "end": "11:30",
            "room": "r203",
            "attendees": 120,
            "title": "Annual Budget Review",
            "services": {"banner": {}, "microphones": {"count": 6}, "photography": {}},
        },
    ),
    Case(
        "tomorrow at 7 in the reception room for 10",
        {
            "date": "2026-12-02",
            "room": "r102",
            "layout": "discussion",
            "attendees": 10,
            "problems": ["am_or_pm"],
            "ambiguous": ["start_time"],
        },
    ),
    Case(
        "We need a room for 10-15 people next Thursday afternoon",
        {"problems": ["count_range"], "ambiguous": ["attendees", "date"]},
    ),
    Case(
        "Title: Q4 Safety Briefing. Room 301, Dec 9 2pm, 45 participants, projector, level 3 reception.",
        {
            "title": "Q4 Safety Briefing",
            "room": "r301",
            "date": "2026-12-09",
            "start": "14:00",
            "attendees": 45,
            "services": {"projector": {}},
            "level": 3,
        },
    ),
    Case(
        "Planning department needs Meeting Room 1 the day after tomorrow 10-12, 8 people, confidential",
        {
            "department": "planning",
            "room": "r101",
            "date": "2026-12-03",
            "start": "10:00",
            "end": "12:00",
            "attendees": 8,
            "confidential": True,
        },
    ),
    Case(
        "Can we have the banquet room tomorrow evening",
        {"date": "2026-12-02", "layout": "banquet"},
    ),
    Case(
        "Hall 203, 3 December, 14:00-17:00, 180 people, theatre style, 4 mics, signage "
        "and parking for 5 cars, "
        "not confidential",
        {
            "room": "r203",
            "date": "2026-12-03",
            "start": "14:00",
            "end": "17:00",
            "attendees": 180,
            "layout": "theatre",
            "confidential": False,
            "services": {"microphones": {"count": 4}, "signage": {}, "parking": {"spaces": 5}},
        },
    ),
    Case(
        "in 2 days at 9:30am, room 102, 12 people, sign-in desk",
        {
            "date": "2026-12-03",
            "start": "09:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 12,
            "services": {"sign_in": {}},
        },
    ),
    Case(
        "Meeting tomorrow from 3pm until 5, 10 people, room 101, for 3 hours",
        {
            "date": "2026-12-02",
            "start": "15:00",
            "attendees": 10,
            "room": "r101",
            "problems": ["duration_conflict"],
        },
        "3pm to 5 is two hours, not three",
    ),
    Case(
        "next week sometime, hall 203, 100 people",
        {"room": "r203", "attendees": 100},
        "a week is not a date",
    ),
    # ---- second batch: written before the engine had read them (first run: docs/understanding.md)
    Case(
        "Hi! Could I book meeting room 1 tomorrow from 10 to 11:30 for 6 people? Thanks",
        {"date": "2026-12-02", "start": "10:00", "end": "11:30", "room": "r101", "attendees": 6},
    ),
    Case(
        "need the video conference hall on thursday 9-11am, 25 attendees, recording please",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "end": "11:00",
            "room": "vc1",
            "attendees": 25,
            "services": {"recording": {}},
        },
    ),
    Case(
        'Hall 203 Dec 18 1pm-6pm 350 people theatre, banner "Year-End Gala", photography, 8 microphones',
        {
            "date": "2026-12-18",
            "start": "13:00",
            "end": "18:00",
            "room": "r203",
            "attendees": 350,
            "layout": "theatre",
            "services": {"banner": {"text": "Year-End Gala"}, "photography": {}, "microphones": {"count": 8}},
        },
    ),
    Case(
        "Reception room tomorrow at 4pm for half an hour, 3 guests, tea",
        {
            "date": "2026-12-02",
            "start": "16:00",
            "end": "16:30",
            "duration": 30,
            "room": "r102",
            "layout": "discussion",
            "attendees": 3,
            "services": {"tea": {}},
        },
    ),
    Case(
        "Can the finance team have room 301 on Friday morning? About 30 of us.",
        {"date": "2026-12-04", "department": "finance", "room": "r301", "attendees": 30},
    ),
    Case(
        "book room 101 for tomorrow, 2pm to 1pm",
        {"date": "2026-12-02", "room": "r101", "problems": ["end_before_start"]},
    ),
    Case(
        "Room 101 at 10am on Dec 4 and Dec 5, 8 people",
        {"start": "10:00", "room": "r101", "attendees": 8, "problems": ["two_dates"], "ambiguous": ["date"]},
    ),
    Case(
        "We need a boardroom setup for 14 next Tuesday 3-5pm in meeting room 1",
        {
            "date": "2026-12-08",
            "start": "15:00",
            "end": "17:00",
            "layout": "discussion",
            "attendees": 14,
            "room": "r101",
        },
    ),
    Case(
        "hall 203 on 12/20 at 9, 200 pax, classroom, level 2 reception, 4 visitor parking spaces",
        {
            "date": "2026-12-20",
            "start": "09:00",
            "room": "r203",
            "attendees": 200,
            "layout": "classroom",
            "level": 2,
            "services": {"parking": {"spaces": 4}},
        },
    ),
    Case(
        "Tonight 6:30-8pm reception room, 10 people, flowers, no nameplates",
        {
            "date": "2026-12-01",
            "start": "18:30",
            "end": "20:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 10,
            "services": {"flowers": {}},
            "declined": ["nameplates"],
        },
    ),
    Case(
        "Thursday 2pm, room 301, projector + screen, 35 ppl, subject: Budget kickoff",
        {
            "date": "2026-12-03",
            "start": "14:00",
            "room": "r301",
            "services": {"projector": {}},
            "attendees": 35,
            "title": "Budget kickoff",
        },
    ),
    Case(
        "meeting room 1 tomorow 9 am for 1 hour 5 people",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "10:00",
            "duration": 60,
            "room": "r101",
            "attendees": 5,
        },
    ),
    Case(
        "the big conference room next Monday 10-12 for 40",
        {
            "date": "2026-12-07",
            "start": "10:00",
            "end": "12:00",
            "attendees": 40,
            "problems": ["unknown_room"],
        },
    ),
    Case(
        "Wednesday Dec 9, 2:00-3:30 pm, reception room, 6, water and tea",
        {
            "date": "2026-12-09",
            "start": "14:00",
            "end": "15:30",
            "room": "r102",
            "layout": "discussion",
            "attendees": 6,
            "services": {"water": {}, "tea": {}},
        },
    ),
    Case(
        "Room for a training session, about 100 people, 3 December 9am-4pm, classroom layout, "
        "2 mics, projector",
        {
            "attendees": 100,
            "date": "2026-12-03",
            "start": "09:00",
            "end": "16:00",
            "layout": "classroom",
            "services": {"microphones": {"count": 2}, "projector": {}},
        },
    ),
    Case("Could I get hall 203 on the 15th?", {"room": "r203"}),
    Case(
        "Tomorrow 3pm in room 101, or 4pm if 3 is taken, 6 people",
        {
            "date": "2026-12-02",
            "room": "r101",
            "attendees": 6,
            "problems": ["two_times"],
            "ambiguous": ["start_time"],
        },
    ),
    Case(
        "Please reserve the video-conference hall for Monday 14:00-16:00, 60 participants, "
        "confidential meeting",
        {
            "date": "2026-12-07",
            "start": "14:00",
            "end": "16:00",
            "room": "vc1",
            "attendees": 60,
            "confidential": True,
        },
    ),
    Case(
        "Dec 2 9am room 301 50 people sign-in desk and signage",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "room": "r301",
            "attendees": 50,
            "services": {"sign_in": {}, "signage": {}},
        },
    ),
    Case(
        "Next friday afternoon 2 to 4 in reception room for 8, VIP lounge too",
        {
            "start": "14:00",
            "end": "16:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 8,
            "services": {"vip_lounge": {}},
            "ambiguous": ["date"],
        },
    ),
    # ---- regressions found by probing
    Case(
        "Mon 7th Dec 10:00 room 101",
        {"date": "2026-12-07", "start": "10:00", "room": "r101"},
    ),
    Case(
        "3/12 at 10am room 101",
        {"start": "10:00", "room": "r101", "ambiguous": ["date"]},
        "12 March or 3 December",
    ),
    Case(
        "Can you move my 3pm meeting to 4pm tomorrow?",
        {"date": "2026-12-02", "problems": ["two_times"], "ambiguous": ["start_time"]},
        "never read as 15:00-16:00",
    ),
    Case(
        "Tea refills every hour please, room 101 tomorrow 2-4pm",
        {"date": "2026-12-02", "start": "14:00", "end": "16:00", "room": "r101", "services": {"tea": {}}},
        "an interval is not the meeting's length",
    ),
    Case(
        "next weekend hall 203",
        {"room": "r203"},
    ),
    Case(
        "This Thursday or Friday 2pm room 101",
        {"start": "14:00", "room": "r101", "problems": ["two_dates"], "ambiguous": ["date"]},
    ),
    Case(
        "Room 101 tomorrow 2-4pm for 10 people. Title: Budget review need a projector",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "title": "Budget review",
            "services": {"projector": {}},
        },
        "a request for something ends the title",
    ),
    Case(
        "Title: Training needs review we need two mics. Hall 203 tomorrow 9-11am, 80 people",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 80,
            "title": "Training needs review",
            "services": {"microphones": {"count": 2}},
        },
        "'needs' without an article is the title's own",
    ),
    # ---- dates that do not exist are asked, never moved to another month or year ----------
    Case(
        "Room 101 on 30 February 2027, 2-4pm, 10 people",
        {"start": "14:00", "end": "16:00", "room": "r101", "attendees": 10, "problems": ["no_such_date"]},
        "dateparser finds no date in 30 February: said so, not silently dropped",
    ),
    Case(
        "Feb 30 2-4pm hall 203, 50 people",
        {"start": "14:00", "end": "16:00", "room": "r203", "attendees": 50, "problems": ["no_such_date"]},
    ),
    Case(
        "Reception room 31 April 10-11am for 6",
        {
            "start": "10:00",
            "end": "11:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 6,
            "problems": ["no_such_date"],
        },
    ),
    Case(
        "2026-13-01 2-4pm room 101 for 8",
        {"start": "14:00", "end": "16:00", "room": "r101", "attendees": 8, "problems": ["no_such_date"]},
        "dateparser reads month 13 as some other day in the past",
    ),
    Case(
        "2/30 2-4pm room 101, 8 people",
        {"start": "14:00", "end": "16:00", "room": "r101", "attendees": 8, "problems": ["no_such_date"]},
        "dateparser reads 2/30 as the year 2030",
    ),
    Case(
        "Feb 29 9am hall 203",
        {"start": "09:00", "room": "r203", "problems": ["no_such_date"]},
        "the next February has no 29th",
    ),
    # ---- a range whose start cannot take the end's am/pm is asked ----------------------------
    Case(
        "Room 101 tomorrow 4-2pm for 10",
        {"date": "2026-12-02", "room": "r101", "attendees": 10, "problems": ["end_before_start"]},
        "4 cannot be 4pm before 2pm, and 4am is no meeting hour: asked, never 04:00-14:00",
    ),
    Case(
        "Hall 203 tomorrow 10am-9, 50 people",
        {"date": "2026-12-02", "room": "r203", "attendees": 50, "problems": ["end_before_start"]},
        "9 is before 10am, and 9pm is no office hour: asked, never 10:00-21:00",
    ),
    Case(
        "Room 101 tomorrow 9-1pm for 6",
        {"date": "2026-12-02", "start": "09:00", "end": "13:00", "room": "r101", "attendees": 6},
        "a morning start may cross noon to an afternoon end",
    ),
    # ---- every detail cue ends where the request goes on -------------------------------------
    Case(
        "Reception room tomorrow 10-11am, 6 people, nameplates: A<B, C&D",
        {
            "date": "2026-12-02",
            "start": "10:00",
            "end": "11:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 6,
            "services": {"nameplates": {"names": "A<B, C&D"}},
        },
        "a list of names goes on over commas; < and & are kept",
    ),
    Case(
        "Reception room Thursday 9-11am name cards: Mr Zhang, Ms Li and Dr Wang, 8 people, tea",
        {
            "date": "2026-12-03",
            "start": "09:00",
            "end": "11:00",
            "room": "r102",
            "layout": "discussion",
            "attendees": 8,
            "services": {"nameplates": {"names": "Mr Zhang, Ms Li and Dr Wang"}, "tea": {}},
        },
        "the list ends where the request goes on",
    ),
    Case(
        "Hall 203 tomorrow 9-11am banner: Annual Safety Meeting 80 people with tea",
        {
            "date": "2026-12-02",
            "start": "09:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 80,
            "services": {"banner": {"text": "Annual Safety Meeting"}, "tea": {}},
        },
        "a banner text after a colon ends before the count",
    ),
    Case(
        "Title: Budget review tomorrow 2-4pm room 101 for 10",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "title": "Budget review",
        },
        "a title ends where the date begins",
    ),
    Case(
        "Room 101 tomorrow 2-4pm, notes: open the door 30 minutes early; 10 people, tea",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "notes": "open the door 30 minutes early",
            "services": {"tea": {}},
        },
        "the notes are kept as typed; their 30 minutes are not the meeting's length",
    ),
    Case(
        "Room 101 tomorrow 2-4pm contact: Mary Jones phone 138 1234 5678 10 people",
        {
            "date": "2026-12-02",
            "start": "14:00",
            "end": "16:00",
            "room": "r101",
            "attendees": 10,
            "contact_name": "Mary Jones",
            "contact_phone": "138 1234 5678",
        },
        "a phone number does not take the count after it",
    ),
    Case(
        "contact: Mary Jones Friday 10-11am hall 203 for 40",
        {
            "date": "2026-12-04",
            "start": "10:00",
            "end": "11:00",
            "room": "r203",
            "attendees": 40,
            "contact_name": "Mary Jones",
        },
        "a contact's name ends before the weekday",
    ),
]

CASES = ZH_CASES + EN_CASES

# Plain chat that must not be taken for a booking, and requests that must.
NOT_REQUESTS = [
    "hello",
    "hi there",
    "thanks",
    "thank you!",
    "ok",
    "👍",
    "你好",
    "谢谢",
    "收到",
    "好的，辛苦了",
    "明天见",
    "会议开得怎么样？",
    "what's the wifi password",
    "who is on duty today?",
    "203会议厅的投影仪坏了",
    "the projector in hall 203 is broken",
    "今天天气不错",
    "lol",
    "/start",
    "Good morning!",
    "上午好",
    "请问食堂几点开饭？",
    "the meeting tomorrow went well",
    "see you tomorrow at 2pm",
    "明天下午开会吗？",
    "会议几点开始？",
    "我明天请假",
    "ok, 3 of us will come",
]
CHANGES = [
    "明天下午3点的会改到4点",
    "Can you move my 3pm meeting to 4pm tomorrow?",
    "取消明天上午203的会",
    "please cancel my booking for tomorrow",
]
REQUESTS = [
    case.text
    for case in CASES
    if (case.expect.get("room") or case.expect.get("date")) and case.text not in CHANGES
] + ["订会议室", "I'd like to book a room", "明天下午借用一下接待室", "room for 5 at 3pm"]

SCALARS = {
    "date": "date",
    "attendees": "attendees",
    "room": "room_id",
    "layout": "layout",
    "level": "reception_level",
    "title": "title",
    "confidential": "confidential",
    "department": "department_id",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "notes": "notes",
}


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)


def _actual(result: Understanding, key: str) -> Any:
    if key in SCALARS:
        value = getattr(result, SCALARS[key])
        return value.isoformat() if key == "date" and value is not None else value
    if key in ("start", "end"):
        value = getattr(result, f"{key}_time")
        return value.strftime("%H:%M") if value is not None else None
    if key == "duration":
        return int(result.duration.total_seconds() // 60) if result.duration is not None else None
    raise KeyError(key)


def score(case: Case, result: Understanding) -> Score:
    out = Score()
    expect = case.expect

    def check(name: str, want: Any, got: Any) -> None:
        if want is None:
            if got is not None:
                out.wrong.append(f"{name}: {got!r} (nothing was said)")
            return
        out.expected += 1
        if got is None:
            out.missed.append(name)
        elif got != want:
            out.wrong.append(f"{name}: {got!r} (expected {want!r})")
        else:
            out.found += 1

    for key in (*SCALARS, "start", "end", "duration"):
        check(key, expect.get(key), _actual(result, key))
    # the aware datetimes must agree with the date and clock times
    for key in ("start", "end"):
        aware = getattr(result, key)
        if aware is not None:
            local = aware.astimezone(ZONE)
            if (local.date().isoformat(), local.strftime("%H:%M")) != (
                _actual(result, "date"),
                _actual(result, key),
            ):
                out.wrong.append(f"{key}: {aware.isoformat()} disagrees with date and {key}_time")
        elif result.date is not None and getattr(result, f"{key}_time") is not None:
            out.wrong.append(f"{key}: unset although date and {key}_time are known")
    services: dict[str, dict[str, Any]] = expect.get("services", {})
    for service_id in sorted({*services, *result.services}):
        want = services.get(service_id)
        got = result.services.get(service_id)
        check(f"services.{service_id}", None if want is None else True, None if got is None else True)
        for key in sorted({*(want or {}), *(got or {})}):
            check(f"services.{service_id}.{key}", (want or {}).get(key), (got or {}).get(key))
    declined = set(expect.get("declined", ()))
    for service_id in sorted(declined | set(result.declined_services)):
        check(
            f"declined.{service_id}",
            True if service_id in declined else None,
            True if service_id in result.declined_services else None,
        )
    codes = set(expect.get("problems", ()))
    for code in sorted(codes | set(result.problem_codes())):
        check(
            f"problem.{code}",
            True if code in codes else None,
            True if code in result.problem_codes() else None,
        )
    for name in expect.get("ambiguous", ()):
        check(f"ambiguous.{name}", True, True if name in result.ambiguous else None)
    return out
