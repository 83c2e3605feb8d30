"""The people and groups of examples/site.toml, named by what the tests use them for.

One place for the Telegram ids the tests share: a test that needs a person of the example
site imports them from here rather than copying the number.
"""

from __future__ import annotations

# ---- people -------------------------------------------------------------------------------
WANG = 1001  # 王敏: requester of the finance department, reads Chinese
REQUESTER = WANG
ALICE = 1002  # Alice Chen: requester of the office, reads English
REQUESTER_EN = ALICE
DISPATCHER = 2001  # 刘洋: dispatcher, leader of the service hotline, Chinese
DISPATCHER_2 = 2002  # 赵丽: the other dispatcher, member of the hotline
APPROVER = 2101  # 孙建国: approves bookings
SUPERVISOR = 2201  # 陈静: second in the escalation chain
MANAGER = 2301  # 周伟: manager (last in the chain) and site admin
SITE_ADMIN = MANAGER  # may invite into every department
SERVICE_LEADER = 3001  # 李强: leader of the conference-service and tea team
SERVICE_MEMBER = 3002  # 张芳: member of the service team
AV_LEADER = 3101  # 吴刚: leader of the AV team, in no department
AV_MEMBER = 3102  # 郑浩: member of the AV team
SECURITY_LEADER = 3201  # 马超: leader of the security team
STRANGER = 9001  # a Telegram user the site does not know

# ---- the teams' groups ----------------------------------------------------------------------
SERVICE_GROUP = -1001
AV_GROUP = -1002
SECURITY_GROUP = -1003
CLEANING_GROUP = -1004
HOTLINE_GROUP = -1005
