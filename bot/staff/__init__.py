"""Staff-side channels (grid workers, trios, legal advisers): official, send-only."""
from bot.staff.wecom import WeComError, WeComRobot

__all__ = ["WeComError", "WeComRobot"]
