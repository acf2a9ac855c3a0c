"""Keyword router: one jieba pass, then dict lookups against a weighted YAML lexicon.

A message is segmented once; the tokens are scanned left to right and the longest
run of 1..N adjacent tokens whose concatenation is a lexicon term is taken (so a
lexicon entry such as "煤气味" matches whether jieba yields one token or two).
Each label sums the weights of its cues, a handful of precompiled structural
patterns (question, notice title, official address...) add fixed weights, negative
cues subtract, and the best label wins only above its threshold; otherwise `other`.
One combination rule works on the same lookups: a community facility ("电梯", "水龙头")
within a few tokens of a fault word ("坏了", "没反应", "黄的") is a repair request,
however short the message ("电梯坏了").
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.yamlload import load_unique
from nlp import segment

LABELS = ("petition", "legal", "notice")
LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")
# Clutter said as a verb ("垃圾桶堆了好几天"): what is named before it is the thing, not a modifier
PILED_UP = frozenset({"堆", "堆了", "堆着", "堆满", "堆满了", "堆放", "乱堆"})
ADVERTS = "小广告"  # the lexicon's object for flyers; what they offer is no object of the report
SERVICE_VERBS = frozenset({"通", "疏通", "修", "维修", "清洗", "上门", "专业"})
# a flat said digit by digit: "五零二" (floor, 零, door); never inside a longer run of numerals
_SPOKEN_DIGIT = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "幺": "1", "洞": "0"}
_SPOKEN_FLAT = re.compile(r"(?<![零〇一二三四五六七八九十百千万幺两])[一二三四五六七八九幺][零〇][一二三四五六七八九幺](?![零〇一二三四五六七八九十百千万幺])")
NOT_A_REPAIR = frozenset({"-#个人物品"})  # the facility+fault penalty for one's own things breaking
# a thing someone is to buy is not where a problem is ("回来就说要买床垫"; "买了个鞋柜放在楼道里" names it
# again where it stands)
BUYING = frozenset({"买", "买个", "要买", "想买", "购买", "订"})
NEGATING = frozenset({"不是", "并非", "并不是"})
OBJECTS_MEMO_SIZE = 20_000  # texts whose objects are kept (Router.objects)


@dataclass(frozen=True)
class Route:
    label: str                 # "petition" | "legal" | "notice" | "other"
    category: str | None       # a category of that label, None for other
    urgent: bool
    score: float
    keywords: tuple[str, ...]  # cues that drove the decision ("-收到" = negative, "#问句" = pattern)
    danger: str | None = None  # the kind of an urgent danger (gas, fire, lift, fraud...): its advice
    followup: bool = False     # worded as a follow-up ("还是没人修", "又来了", "都一个礼拜了")


# Structural cues: a fixed, small set of precompiled patterns (never one regex per keyword).
# A neighbour's "me too" under a report, in parts the router's 附议 and handlers.petitions.ME_TOO
# share: who (and where: "是的 我家门口", "我们这层"), and the same trouble named by its verb.
ME_TOO_WHO = (
    # a topic or a short clause first: "垃圾桶那个我家也是", "硬是臭 我屋头都闻到了"
    r"(?:[\u4e00-\u9fff]{1,6}?(?:那个|这个|那事|的事)|(?:[^\s，,。!！?？]{1,6}?[\s，,。!！]*){1,2}?)?"  # ("是的 昨天我也看到了")
    r"(?:(?:是的|对的?|嗯+|确实)\W*)?(?:我|我们|俺|咱|阿拉|阿拉自家)(?:家|们家|这边|这儿|这里|屋头|屋里头|屋里向|屋里?|那边|楼)?"
    r"(?:的)?(?:门口|门前|门把手|门锁|门|这层|这一层|楼下|楼上|阳台|厨房|卫生间|厕所|天花板|车库|地下室|储藏室|车位)?"
    r"(?:\d{3,4}室?|(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[楼层])?"  # "我家302也被…", "我家4楼也闻到了"
    r"(?:门口|阳台|厨房|卫生间|厕所|天花板|屋顶|墙上)?"  # "我家402天花板也在往下滴水了"
    r"(?:在(?:阳台|窗口|窗户边|楼下|楼上|家里|屋里)(?:上|边|那|这)?)?"  # "我在阳台上也看到了"
    r"(?:那(?:根|个|盏|块|条|只)[\u4e00-\u9fff]{0,2})?"  # "我家门口那根线也被咬得露铜了"
)
ME_TOO_TROUBLE = (
    r"也[漏坏停堵臭吵滴渗堆占淹泡]|也进水|也在(?:往下)?[漏滴渗堆]|也(?:能)?听(?:得)?(?:到|见)|也受不了|也被吵"
    r"|(?:关[起着上了]*窗(?:子|户)?\S{0,2})?[也都]闻(?:得)?(?:到|见)"  # "我屋头关起窗子都闻得到"
    r"|也被\S{0,6}?(?:漏|渗|泡|淹|滴)"  # "我家302也被502漏下来的水泡了"
    r"|也是(?:这|那)(?:个|种|股)?\S{0,2}(?:味|声音|情况|样子?)"  # "是的 我家门口也是这个味 熏得头疼"
    r"|也(?:能)?(?:看|瞧)(?:得)?(?:到|见)|也被\S{0,2}咬"  # "我在阳台上也看到了 烟好大", "那根线也被咬得露铜了"
    r"|也(?:被人?)?(?:拧|撬|敲|踹|砸|推|划)(?:过|了)|也被(?:人)?(?:拧|撬|敲|踹|砸|推|划)|也来(?:敲|按|拍|砸)(?:过|了)?"  # "阿拉屋里也来敲过"  # "我家门把手也被拧过", "阿拉屋里门把手也拧过了"
    # "我家也没有 孙子澡都洗不了" (no water either), "我家也是黄的 跟酱油一样"
    r"|也(?:还)?没(?:有)?(?:水|电|气|暖气|热水|信号|网)?(?:了|啊|呀)?(?=$|[\s，,。!！])|也是[黄黑浑臭湿冷凉锈红]"
)
# A neighbour's flat saying it has the same trouble: "402也在滴", "3-302也漏了". A flat needs the
# trouble named: "2023也是这样" is no flat.
FLAT_ALSO = r"(?:\d{3,4}|\d{1,2}[-－]\d{3,4})(?:室|家)?(?:" + ME_TOO_TROUBLE + ")"
# The trouble back again, by its verb: "昨晚楼上又蹦到十一点", "又开始滴了" (not "又在楼下碰到王阿姨了").
# Part of the router's 跟进, and handlers.petitions' test for a chase that tells the problem.
AGAIN_VERBS = r"叫|响|吵|闹|拖|跺|蹦|跳|漏|滴|渗|堵|臭|堆|占|贴|扔|冒|开钻|钻|砸|敲|搓|拉|摆|哒|充|搬|穿着?高跟鞋|走到"
TROUBLE_AGAIN = re.compile(r"又(?:开始)?(?:" + AGAIN_VERBS + ")")

# Who a con at the doors poses as, and what it is after (the 上门行骗 pattern)
_POSING = (
    r"(?:社区|居委会?|街道|物业|燃气|煤气|天然气|供电|电力|自来水|水务|网格员?|消防|民政|社保|医保|派出所)"
    # (voice-to-text puts spaces between clauses: "说是燃气公司的 上门检查燃气管 … 收二百八")
    r"[^。！!？?\n]{0,40}?(?:收\S{0,12}(?:费|钱|押金|款)|收[一二两三四五六七八九十百千万\d]{2,}|要钱|交钱|给了?钱|交\S{0,6}定金|付\S{0,4}定金"
    r"|换\S{0,6}(?:阀|管|表|报警器|门锁|智能锁)|卖\S{0,10}(?:净水器|报警器|软管|阀门|灭火器|保险|产品)|检测费|检查费|服务费)"
)
# "紧急扩散" over a chain message is hearsay; over "5栋有个老人晕倒了" (a place here) it is a cry for help
_SPREAD_ELSEWHERE = r"^(?!.*(?:\d+\s*(?:栋|幢|号楼|单元|楼)|楼道|我们楼|本楼|咱们楼|我家|隔壁|对门|楼下|楼上)).*(?:紧急扩散|扩散一下)"
_PATTERNS: dict[str, re.Pattern[str]] = {
    # ends as a question: asking, not announcing
    "问句": re.compile(
        r"(?:[?？]|[吗呢么嘛]|没有|了没|[不没否]|多少|几点|几年|几个月|哪\S{0,3}|找谁|谁|啥|"
        r"(?:怎么|咋|如何)\S{0,4}|还是\S{1,6})[\s。.!！~～…]*$"
    ),
    # "关于…的通知" style title, or a title ending in a notice word
    "通知标题": re.compile(
        r"^(?:.{0,30}关于.{2,80}的?|.{0,40})(?:通知|公告|公示|通告|提示|须知|通报|启事|公示函|预告|安排|名单|综述|贺信)"
        r"[（(]?[一二三四五六七八九十第号\d]*[)）]?$"
    ),
    # "【停水通知】" style header
    "方括号标题": re.compile(r"^\s*[【\[](?![表情图片语音视频链接])[^】\]]{2,20}[】\]]"),
    # no question anywhere: a statement ("合同签了，下月入职") is not a legal question
    "无疑问": re.compile(
        r"^(?!.*(?:[?？吗呢么嘛]|怎么|如何|怎样|咋|啥|几年|能否|能不能|可不可以|可以|是否|是不是|会不会|有没有|多少|多久|哪|谁|什么|"
        r"算不算|要不要|该不该|行不行|咨询|请问|请教|想问|问一下))",
        re.S,
    ),
    # asking permission: "业主可以拒交物业费吗", "我能直接换锁吗"
    "可否问": re.compile(
        r"(?:可以|能否|能不能|能|可不可以|有权|有没有权).{0,20}[吗么][?？\s]*$"
        r"|(?:能不能|可不可以|能否|有没有权|有权)(?:要求|索赔|起诉|告|拒|不交|少交|退|要回)"
    ),
    # "请各户于月底前到服务中心办理…": an instruction to everyone to go and do something
    "请办": re.compile(
        r"请.{0,15}(?:于|在|到|前往|携带|带好).{0,25}(?:办理|登记|补登|领取|参加|报名|缴费|接种|提交|上交|交到|认领|预约)"
    ),
    # a flat, floor or building in the estate: residents report where the problem is
    "门牌": re.compile(r"\d+\s*(?:号楼|楼|栋|幢|单元|室|层)|[一二三四五六七八九十]\s*(?:楼|栋|幢|单元|层)(?!梯)"),
    # a concrete date or time (announcements are dated)
    "日期时间": re.compile(
        r"(?:\d{1,2}|本|下|这个)\s*月\s*\d{1,2}\s*[日号]|\d{1,2}[:：]\d{2}|[上下]午\s*\d|[本下这]周[一二三四五六日末]|星期[一二三四五六日天]|\d{1,2}[点时](?:至|到|-)"
    ),
    # a letter to an official: "尊敬的市长：", "张书记：您好"
    "致领导": re.compile(
        r"^\s*(?:尊敬的.{0,8}(?:书记|市长|县长|区长|镇长|局长|厅长|省长|主任|领导)"
        r"|.{0,4}(?:书记|市长|县长|区长|镇长|局长|厅长|省长)(?:先生|同志|大人)?[:：,，！!\s]"
        r"|.{0,4}(?:领导|主任)[:：,，！!\s]*(?:您好|你好))"
    ),
    # anonymised or real administrative place codes: "A3区", "L6县", "K市"
    "地名": re.compile(r"(?<![A-Za-z])[A-Z]\d{0,2}\s?(?:市|县|区)"),
    # hypothetical parties in a legal question
    "甲乙": re.compile(r"甲.{0,30}乙|[A-C][与和]?[A-C]为|[A-C]以"),
    # asking who is liable: "到底谁该赔", "医药费谁出", "工钱找谁要"
    "谁担责": re.compile(
        r"谁(?:该|来|应该|应当)?(?:赔|出钱|出|负责|承担|买单)|找谁(?:赔|要|负责|退)|找\S{1,4}赔"
        r"|(?:要|该|需要|得|用不用|要不要|该不该|应不应该)(?:赔偿?|负责任?|担责|承担\S{0,4})(?:吗|么|不|没|[?？]|啊|呀|呢|$)"
        r"|(?:该|要|应该)?怎么(?:赔|索赔|要赔偿)|能赔多少|该赔多少|法律上(?:怎么|咋)"
        r"|\S{1,4}(?:赔|出钱|负责)还是\S{1,4}(?:赔|出钱|负责)"  # "应该房东赔还是我赔"
        r"|(?:到底|应该|该)?归谁|是不是(?:应该|该)归"  # "这些公共收益到底归谁"
        # who pays and who must agree: "这个钱到底怎么分摊", "凭什么要我出钱", "能不能不经我同意强行装"
        r"|(?:怎么|如何|按什么\S{0,4})分摊|凭什么(?:要|让)?我(?:们)?(?:家)?(?:出钱|出|赔|交|补偿)"
    ),
    # whose consent a thing needs: "能不能不经我同意强行装", "一楼不签字是不是就装不成"
    "须同意": re.compile(r"(?:不经|没经|未经)\S{0,4}同意|不签字\S{0,6}(?:是不是|能不能|就|可以)|(?:同意|签字)\S{0,6}才(?:能|可以)"),
    # a suggestion opens with 建议: "建议小区多装几个…", "提个建议…"
    "建议开头": re.compile(r"^(?:@\S+\s*)?(?:提个|我|小小的)?(?:建议|提议)"),
    # a service advert, not a report: "专业疏通下水道 开锁换锁 电话138…", "上门维修 价格实惠"
    "广告": re.compile(
        r"(?:专业|上门|24小时|随叫随到)\S{0,6}(?:疏通|开锁|换锁|维修|搬家|保洁|家政|清洗|回收|安装|防水|补漏)"
        r"|(?:开锁|换锁|疏通|搬家|维修|保洁|清洗|补漏)\S{0,12}(?:电话|热线|微信|vx|VX|加我)\S{0,3}[\d*＊]{5,}"
        r"|价格(?:实惠|优惠|公道|便宜)|欢迎(?:来电|咨询|联系)|有?需要的?(?:请)?(?:联系|私聊|加我|找我|打电话)"
        # loans and paid "free consultations" pushed at the group: "无抵押贷款 当天放款", "加微信lv12345 名额有限"
        r"|无抵押|当天放款|征信花了|(?:额度高|利息低|低息)|名额有限|先到先得|加(?:我)?(?:微信|vx|VX|V信)|一对一\S{0,4}(?:律师|咨询|辅导)"
        # a flat to let: "出租 3幢1单元502 两室一厅 家电齐全 拎包入住 有意者联系…"
        r"|拎包入住|有意者(?:请)?(?:联系|私聊|电话|致电)|(?:出租|转租|出售)\S{0,20}(?:室\S?厅|家电齐全|精装|看房)"
    ),
    # danger patterns (weights usually `urgent: <category>`): gas smell, smoke, exposed wires
    "燃气味": re.compile(r"(?:煤气|燃气|天然气|液化气|瓦斯)(?:的)?(?:味|泄漏|泄露)"),
    # "楼道里好多烟 呛得眼睛都睁不开": smoke filling a place (not "烟味好大": someone smoking)
    "冒烟": re.compile(
        r"烟.{0,2}冒[出起]|冒.{0,2}[黑白浓]烟|烧焦|焦糊味"
        # in the building, and no everyday smoke (cooking, cigarettes, fireworks, incense) named
        r"|^(?!.*(?:油烟|抽烟|吸烟|烟味|二手烟|香烟|烟头|(?<!不是)(?<!不是放)(?:鞭炮|烟花|爆竹)|熏|蚊香|烧烤|做饭|炒菜|烧菜|天天|每天|经常|总是|老是))"
        r"(?:(?=.*(?:楼道|走廊|楼梯|过道|单元|楼上|楼下|门缝|隔壁|屋里|家里|房间))"
        r".*(?:好多|好大|很多|很大|满是|全是|都是|到处是|一股|一屋子|一楼道)的?[黑白浓]?烟(?![味头民酒草花盒])"
        r"|.*烟\S{0,4}呛得\S{0,4}(?:睁不开|喘不过|喘不上|受不了|流眼泪|出不了门|出不去)|.*烟(?:大得很|好大|很大|太大|特别大|大得不得了))",
        re.S,
    ),
    "电线外露": re.compile(
        r"电线.{0,6}(?:露|裸|破皮|耷拉|垂下|掉下|咬破|咬断)|(?:冒|打|起|闪)(?:火花|火星子?)"
        r"|铜线(?:头)?\S{0,4}露|露(?:出)?铜(?:线|丝)?"  # "老鼠把电线咬破了 铜线头都露在外面"
    ),
    # water in live electrics: "漏水漏到我家门口电表箱里了 滋滋的响", "插座进水了 在冒火花"
    "水进电箱": re.compile(
        r"(?:漏|渗|滴|流|灌|淌|淹|泡)水?(?:到|进)\S{0,6}(?:电表箱|电箱|配电箱|电闸|插座|开关盒)"
        r"|(?:电表箱|电箱|配电箱|电闸|插座)(?:里|上|内|里面|那里|那边|那儿)?(?:也|都)?在?(?:进水|漏水|渗水|滴水|湿透|泡水|滴|漏)"
        r"|^(?=.*水).*(?:电表箱|电箱|配电箱|电闸|插座)\S{0,4}(?:滋滋|噼啪|啪啪)",
        re.S,
    ),
    # lost and found: "谁的钥匙掉在2楼楼梯口了", "捡到一个钱包 失主来认领" (never over a danger)
    "失物": re.compile(
        r"^(?!.*(?:煤气|燃气|着火|起火|冒烟|漏电|救命|摔倒|晕|血|困在|被困|困人|砸到|烟))"
        r".*(?:谁(?:家)?的?\S{0,3}(?:钥匙|手机|钱包|卡|伞|包|眼镜|快递|衣服)|失主|认领|捡到|拾到)",
        re.S,
    ),
    # a near miss that ended well: "差点在楼梯上摔了 还好扶住了 吓一跳" (not "摔倒了 我扶住了")
    "虚惊": re.compile(
        r"(?:差点|差一点|险些)\S{0,8}(?:摔|滑|绊|跌|撞)\S{0,12}(?:还好|幸好|好在)\S{0,4}(?:扶住|抓住|站住|没摔|没事|没伤)"
        # a resident reassuring the neighbours about their own smoke: "我家在烧香 有点烟味 大家别紧张哈"
        r"|(?:大家|各位)\S{0,2}(?:别|不用|不要)(?:紧张|担心|害怕|慌)"
    ),
    # things falling from a height: "外墙瓷砖掉了", "玻璃掉下来", "花盆砸下来"
    "坠物": re.compile(
        # (not 墙皮 in a leak: "被502漏下来的水泡了 墙皮都掉了" is damage indoors, not a danger from above)
        r"(?:瓷砖|外墙皮?|玻璃|花盆|窗框|窗户|广告牌|招牌|空调外机|石块|砖头?|树枝)[^，。,\s]{0,4}(?:掉|砸|坠|落)(?:了|下)"
        r"|^(?!.*(?:泡|漏|渗|湿|滴))(?:.*)墙皮[^，。,\s]{0,4}(?:掉|砸|坠|落)(?:了|下)"
        # about to fall over people: "单元门口上面那块招牌被吹得半掉不掉的 一直在晃 下面还有小孩在走"
        r"|(?:招牌|广告牌|空调外机|窗户|玻璃|瓷砖|灯笼|架子|雨棚|花盆|树枝)\S{0,8}(?:半掉不掉|摇摇晃晃|一直在晃|晃来晃去|快要?掉|要掉下来)"
        # just fallen outdoors: "一个花盆砸在单元门口" (not "孩子把花盆砸在地上了")
        r"|^(?!.*把)(?=.*(?:花盆|瓷砖|砖|石块|窗框|衣架|晾衣杆|灯笼|架子|招牌|广告牌)).*(?:花盆|瓷砖|砖头?|石块|窗框|衣架|晾衣杆|灯笼|架子|招牌|广告牌)\S{0,2}(?:砸|掉|落)(?:在|到)"
        r"(?:单元门口|楼下|门口|车上|路上|人行道|雨棚|头上|身上|小区里)"
        r"|^(?=.*(?:刚才|刚刚|正在|还在|一直|现在))(?!.*(?:上次|上礼拜|上周|昨天|前天|以前))"
        r".*(?:从|往)\S{0,4}(?:窗户|窗口|阳台|楼上)\S{0,4}(?:往下|向下)?(?:扔|丢|抛|砸)"
    ),
    # a spouse hitting the asker: domestic violence, whatever the wording
    "家暴": re.compile(
        r"(?:老公|老婆|丈夫|妻子|男人|前夫|对象|男朋友|男友)(?:又|经常|总是|天天|动手)?(?:打|揍|踹|掐)(?:我|了我|得)|鼻青脸肿"
        # being beaten now, whoever: "现在正在打我 我躲在厕所里", "喝醉了又打我"
        r"|^(?!.*(?:孩子|小家伙|宝宝|猫|狗|闹着玩))(?=.*(?:正在|一直在|还在|又在|又|开始|了在)(?:打|揍|踹|掐)我).*"
        r"(?:正在|一直在|还在|又在|又|又开始|开始|了在)(?:打|揍|踹|掐)我(?!电话|手机|微信|语音|家|门|们)"  # "他又喝醉了在打我"
        # a threat to life now: "他又喝醉了在砸门 说要打死我 我躲在房间里"
        # beaten now, with a cry for help: "他在打我 快报警", "救命 他打我", "快来 我爸在打我妈"
        r"|^(?=.*(?:报警|救命|快来|快叫人|110))(?!.*(?:打我电话|打我手机)).*(?:他|她|有人|那人|男的|老公|我爸|我哥)(?:在|正在|又)?(?:打|揍|踹|掐)(?:我|我妈|我爸|人)"
        r"|在打我(?:妈|爸)|打得\S{0,4}(?:满脸是血|头破血流|鼻子流血|嘴角流血)|掐(?:着)?我\S{0,2}脖子"
        r"|^(?=.*(?:现在|正在|拿刀|拿着刀|砸门|喝醉|喝多|躲在|躲进|救命|报警))(?=.*(?:要|说要|扬言要|威胁要|想)(?:打死|杀了?|砍死|弄死)我).*"
        r"(?:要|说要|扬言要|威胁要|想)(?:打死|杀了?|砍死|弄死)我"
    ),
    # nobody acts: "也没人收拾", "说了也不听", "他们不认账"
    "无人管": re.compile(
        r"没人(?:管|收拾|打扫|清理|清|修|处理|理|应|拿|搬|倒|运|扫|收|来)|(?:也|都|还)不(?:拿走|搬走|管|听|改|修|清理|收拾|处理)|不认账"
    ),
    # someone collapsed: "倒在门口了 叫她没反应", "昏迷"
    "人倒地": re.compile(
        r"(?:倒在|倒地|躺在|躺着)\S{0,8}(?:没反应|叫不醒|不动了|起不来)|叫(?:她|他)?(?:也|都)?(?:没反应|不醒|不应)|叫(?:她|他)(?:她|他)?(?:也|都)?(?:不太|不怎么)?(?:应|理|答应)了?(?:$|\W)|昏迷|不省人事"
        r"|(?:人|老头|老太|老人|大爷|大妈|他|她)\S{0,8}(?:好像|好似)?没(?:有)?(?:气|呼吸)了"  # "叫他不应 好像没气了"
        # fallen and cannot get up now: "我老伴在卫生间摔了一跤 爬不起来了 我一个人拉不动他"
        r"|^(?!.*(?:还好|幸好|好在|差点|险些|没事|以前|上次|去年))(?:.*(?:摔|跌)(?:了|倒了?)\S{0,4}(?:爬不起来|起不来|站不起来)"
        r"|.*(?:爬不起来|起不来|站不起来)\S{0,10}(?:拉不动|扶不动|扶不起来|抱不动))"
        r"|晕咗|叫(?:极|佢)?都?唔醒|冇(?:晒)?反应"  # Cantonese: "有个阿伯晕咗 叫极都唔醒"
    ),
    # a fraud under way: someone posing as police or a service pushes the asker (or a relative)
    # to transfer money, read out a code, share a screen: "冒充公安让我转账", "我妈正在给骗子汇款"
    "诈骗进行": re.compile(
        r"安全账户|资金清查|(?:冒充|自称|假冒|假装|说是|声称|装成)\S{0,12}(?:公安|警察|民警|警官|客服|银行|法院|检察|领导|"
        r"老师|快递|医保|社保|税务|京东|淘宝|支付宝|微信)\S{0,24}(?:转账|汇款|打钱|转钱|转\S{0,5}(?:过去|给|到)|验证码|共享屏幕|"
        r"屏幕共享|下载|贷款|冻结|洗钱|注销|退款|理赔)"
        r"|(?=.*(?:骗子|诈骗|陌生|公安|警察|客服|法院|检察|对方|来电|打来电话|电话里|视频通话|刷单|投资|理财|贷款|冻结|冒充|保健品|推销|"
        r"自称|说是|假装|假冒|保证金|解冻|安全账户|充值返利|返利|做任务|本金|提现|网贷))"
        r".*(?:(?:让|叫|要|逼|催)(?:我|我妈|我爸|老人|老爷子|老太太|她|他)\S{0,8}(?:转账|汇款|打钱|转钱|刷卡|转\S{0,5}(?:过去|给|到|的)|"
        r"转[一两三四五六七八九十几\d]|验证码|共享屏幕|屏幕共享|下载)"
        r"|(?:我|我妈|我爸|老人|老爷子|老太太|她|他)\S{0,3}(?:正在|正|在|刚|刚刚)\S{0,12}(?:转账|汇款|转钱|打钱|转了|汇了|转[，。,!！]|转$)"
        # topping up a task or "investment" platform on demand: "还要再充5000", "我正在充", "让我先转"
        r"|(?:还要|还得|又要|说要|要我|让我|叫我|让我先|要我先|叫我先|要先)再?(?:充|转|交|付|打)(?:钱|值|款|费|[\d一二三四五六七八九十几百千万])"
        r"|(?:正在|还在|马上|准备)(?:充|交|付)(?:钱|值|款|费|了|[\d一二三四五六七八九十几百千万,，。!！]|$))"
        # the "your son had an accident" call: "说我出车祸了在医院抢救 要她马上打五万块…正往银行跑"
        r"|^(?!.*(?:上周|上个月|去年|以前|之前|上次|前几天))(?=.*(?:往银行|去银行|在银行|取钱|马上打|马上转|赶紧打|赶紧转|正在转|正在打))"
        r".*(?:电话|打来|来电)[^。!！？?\n]{0,30}(?:车祸|住院|抢救|被抓|出事|绑架|手术)"
    ),
    # a cry for help overheard: "楼上孩子在喊救命", "隔壁女的一直哭喊"
    "呼救": re.compile(
        r"(?:楼上|楼下|隔壁|对门|有人|孩子|小孩|女的|女人|老人|邻居|家里|屋里)\S{0,8}(?:救命|呼救|哭喊|惨叫|喊打人)"
    ),
    # a fight or a beating next door: "两口子又打起来了", "502男的在家打人", "隔壁天天打孩子"
    "打斗": re.compile(
        r"(?:两口子|夫妻|男的|女的|男人|女人|老公|老婆|有人|几个人|一群人|邻居|楼上|楼下|隔壁|对门|那家|那户|\d{3,4})"
        r"\S{0,6}(?:打起来|打架|打人|动手|动刀|拿刀|打孩子|打小孩|打老人|打老婆|打媳妇|往死里打|见血)"
    ),
    # a con going door to door now, posing as the community or a utility: "有个人冒充社区的 挨家挨户
    # 收什么燃气安全检测费 … 他现在还在五楼敲门"
    "上门行骗": re.compile(
        r"^(?!.*(?:不收|不要钱|免费))(?=.*(?:冒充|假冒|假装|自称|装成)).*(?:冒充|假冒|假装|自称|装成)\S{0,8}" + _POSING
        # "说是燃气公司的 挨家挨户上门 要收一百块检测费": only at the doors, and not asked about ("…要交钱吗")
        # "送免费鸡蛋 硬要进门 我妈一个人在家": a stranger pushing into an old person's home
        + r"|(?:送|发)\S{0,4}鸡蛋\S{0,16}(?:硬要|非要|要)进(?:门|屋|来|家)|(?:硬要|非要)进(?:门|屋|我家)"
        + r"|^(?!.*(?:不收|不要钱|免费|吗|[?？]|上周|上个月|前几天|去年|以前|之前|上次))"
        r"(?=.*(?:挨家挨户|一家一家|上门|敲门|挨个|进来|进门|进屋|在我家|在屋里|门口)).*(?:说是|讲是|讲伊是|说他们是)\S{0,4}" + _POSING
    ),
    # a small child or an old person shut in alone: "孩子一个人被反锁在家里了 才三岁 … 他在里面一直哭"
    "反锁": re.compile(
        r"^(?!.*把自己)(?=.*(?:孩子|小孩|宝宝|娃|囡囡|儿子|女儿|孙子|孙女|老人|我妈|我爸|老太太|老爷子)).*"
        r"(?:孩子|小孩|宝宝|娃|囡囡|儿子|女儿|孙子|孙女|老人|我妈|我爸|老太太|老爷子)\S{0,6}(?:被)?(?:反锁|锁)在(?:家|屋|房间|卫生间|厕所|里面|里头|车里)"
        r"|(?:孩子|小孩|宝宝|娃)\S{0,4}(?:被)?反锁\S{0,4}(?:出不来|开不了门)"
        r"|(?:[一二三四五六七八九两\d]岁|孩子|小孩|宝宝|娃|孙子|孙女|儿子|女儿)\S{0,8}一个人(?:被)?(?:反锁|锁|关)在(?:家|屋|房间|里面|里头)"
        r"|^(?=.*(?:门被风带上|门被风吹上|门关上了|进不去门|进不了门|钥匙\S{0,6}(?:在里面|在屋里|锁在|忘|落|丢)))(?=.*(?:[一二三四五六七八九两\d]岁|孩子|小孩|宝宝|娃|孙子|孙女))"
        r".*一个人在(?:屋里|家里|里面|里头|房间)"
    ),
    # a child or a confused old person missing now: "我孙子不见了 七岁 … 一转眼就没了", "老头子有老年痴呆
    # 早上出去买菜到现在还没回来" (never "孩子的玩具不见了", "孙子把手机丢了")
    "走失": re.compile(
        r"(?:孙子|孙女|孩子|小孩|儿子|女儿|娃|宝宝|囡囡|老头子|老太太|老伴|老爷子|我妈|我爸|老妈|老爸|婆婆|公公|奶奶|爷爷)"
        r"[^把的，,。]{0,4}?(?:不见了|走丢了?|走失了?|找不到了|找不着了|寻不着|人没了)"
        r"|^(?!.*(?:我(?:也|真|都|是)?老?糊涂|在哪))(?=.*(?:老年痴呆|痴呆|阿尔茨海默|糊涂了|认不得路|不认路|记不住路|走丢过))"
        r".*(?:还没回来|没回家|还没回家|找不到|找不着|联系不上|不见了|走丢)"
        # "刚才还在楼下滑滑梯 我上楼拿个水杯下来人就不见了 五岁 穿红色面包服": a small one, described to be found
        r"|^(?=.*(?:[一二三四五六七八九两\d]岁|穿\S{0,6}(?:衣|服|袄|裤|外套)))(?!.*(?:昨天|前天|上次|找到了|回来了))"
        r".*人(?:就|一下子|突然|怎么)?(?:不见了|没了|找不到了|找不着了)"
    ),
    # an illness striking now, alone or crying for help: "胸口疼得厉害 喘不上气 我一个人在家 谁能来帮帮我"
    # (never the stairs: "爬六楼喘不上气 电梯赶紧修"; never the past: "上次胸口疼住了院")
    "急病": re.compile(
        r"^(?!.*(?:爬|电梯|上楼|下楼|以前|上次|上回|去年|前几天|复查|住过院|老毛病了))"
        r"(?=.*(?:一个人|救命|帮帮我|快来|谁能来|怎么办|现在|突然|厉害|受不了|快不行))"
        r".*(?:胸口(?:疼|痛|闷)|胸痛|心口(?:疼|痛)|心绞痛|喘不上气|喘不过气|透不过气|呼吸困难|上不来气|半边(?:身子)?(?:麻|动不了)"
        r"|嘴歪|中风了|脑梗了)"
    ),
    # money being taken now after a link or a code was given: "点了领红包的链接 填了银行卡号还有验证码
    # 现在手机一直收到扣款短信 钱还在被转走"
    "钱被转走": re.compile(
        r"(?:钱|存款|余额|卡里|账户|积蓄)\S{0,6}(?:还在|正在|一直在?|不停地?)被(?:转走|扣|划走|刷|转)"
        r"|一直(?:收到|在收|来)扣款短信|(?:链接|验证码|卡号|密码)[^。!！？?\n]{0,40}?(?:扣款短信|扣钱|扣款|被转走|被扣了?|被盗刷|被划走)"
    ),
    # money paid and gone, asked back: "交了三万定金 … 这个钱还能退回来吗", "保健枕头 … 这个钱能退吗"
    "要回钱款": re.compile(
        r"(?:钱|定金|订金|押金|货款|会费|费用?)\S{0,6}(?:还)?(?:能|能不能|可以|可不可以|有没有可能|有办法)(?:退|要回|拿回|追回)"
        r"|(?:退|要回|拿回|追回)(?:得)?(?:回来|回)?(?:吗|不|么)"
    ),
    # what one may withhold: "我们能不能少交物业费啊", "可以拒交吗"
    "可否拒付": re.compile(r"(?:能不能|可不可以|能否|可以|有没有权|有权|能)(?:集体|一起|先|暂时)?(?:少交|不交|拒交|晚交|不付|拒付|停交|缓交)"),
    # venting at the property company, no problem told: "这物业一天到晚不知道在干嘛 收钱的时候一个比一个积极",
    # "交了钱啥也不管 还不如没有物业", "我明天就去打12345投诉他们"; a cheer: "支持[强] 大家一起不交"
    "发牢骚": re.compile(
        r"(?:物业|他们)\S{0,8}(?:不知道在干[嘛啥什么]|干什么吃的|吃干饭|啥也不管|啥都不管|什么都不管|不作为)"
        r"|收钱的时候|还不如没有|就去打12345|打12345投诉|^\W*(?:支持|顶|赞成|同意)\W*(?:大家|一起|我们)|看他们怎么办"
    ),
    # whether one may take them to court: "我们能不能告他们", "可以起诉物业吗"
    "要告": re.compile(r"(?:能不能|可不可以|可以|能|怎么|想)(?:去)?(?:告|起诉)(?:他们|他|她|物业|开发商)?"),
    # an electrical box sparking (with a burning smell, no flames): the wires advice, not a fire
    "电箱打火": re.compile(
        r"^(?!.*(?:着火|起火|冒烟|烧起来|火苗|明火|浓烟|着了))(?=.*(?:电表箱|电箱|配电箱|插座|电闸)).*(?:火星|火花)"
    ),
    # the rules asked, no problem told: "装修几点到几点可以施工啊 周末能不能装"
    "问规定": re.compile(
        r"(?:几点到几点|几点以后|几点之前|几点前|什么时间|哪些时间|啥时候|什么时候)(?:才)?(?:可以|能|允许|让)(?:施工|装修|动工|砸墙|打电钻|用电钻|放鞭炮|放烟花)"
        r"|(?:周末|节假日|晚上|中午|过年)(?:能不能|可不可以|可以|让不让|能)(?:装修|施工|装|动工|打电钻|放鞭炮|放烟花)"
    ),
    # a funny story, nothing to act on: "我家老头子更逗 以为楼道灯是声控的 在楼梯上喊了一嗓子"
    "玩笑": re.compile(r"(?:更|真|太|好)逗|逗死(?:人|我)?了?|笑死我了|笑得我|以为\S{0,8}是声控"),
    # life in danger by one's own hand: "安眠药我都攒了一瓶了 今晚就不想活了" (never "热得不想活了")
    "轻生": re.compile(
        r"^(?!.*(?:热得|累得|笑得|气得|忙得|作业|考试|加班|饿得|困得))(?=.*(?:不想活|活不下去|想死|寻死|一了百了|轻生|自杀|了结自己))"
        r".*(?:安眠药|药都攒|攒了|跳下去|跳楼|今晚|今天晚上|遗书|最后一次|告别|没意思|不想活了|活不下去了|想死)"
    ),
    # venting, no hand asked: "我一个人在家闷得慌 连个说话的人都没有"
    "倾诉": re.compile(r"闷得慌|没人说话|说话的人都没有|没人陪我说话|孤单|寂寞|想孩子们?了"),
    # heat stroke now: "我爸一个人在家 刚打电话说热得头晕 吐了两回了 怕是中暑了"
    "中暑": re.compile(r"^(?=.*(?:中暑|热得|高温|太热))(?=.*(?:头晕|吐了|呕吐|想吐|晕倒|昏|抽搐|说胡话|没力气|浑身发烫)).*(?:中暑|热晕)"),
    # charcoal burning in a sealed room, feared for: "隔壁402老太太在屋里烧炭盆取暖 门窗关得严严实实的 我怕她中毒"
    "中毒风险": re.compile(
        r"^(?=.*(?:烧炭|炭盆|炭火|煤炉|煤球炉|蜂窝煤))(?!.*(?:新闻|听说|某地|别的小区))"
        r"(?=.*(?:门窗\S{0,6}(?:关|紧闭|严实|不开)|不通风|不开窗|怕\S{0,3}中毒|会中毒|一氧化碳))"
    ),
    # damage done, and who pays asked: "暴雨把地下车库淹了 我家车泡坏了 物业说是天灾不管 物业到底该不该赔"
    "损失索赔": re.compile(
        r"^(?=.*(?:该不该赔|要不要赔|谁赔|谁来赔|赔不赔|能不能赔|该谁赔|让\S{1,4}赔|找\S{1,4}赔|索赔|谁负责|起诉|告他|告她|打官司|不肯赔|不赔))"
        r".*(?:泡坏|淹坏|砸坏|损坏|泡了|淹了|砸了|砸裂|刮花|弄坏|损失|熏坏|熏黑|烧坏|烧黑|烧毁|烧掉|烫坏|不肯赔)"
    ),
    # hurt days ago, and who pays asked: "前几天在小区门口结冰的路上摔了 手腕骨裂 … 能不能找物业赔医药费"
    "伤后索赔": re.compile(
        r"^(?=.*(?:前几天|前两天|昨天|前天|上周|上礼拜|上个月|那天|上次|之前|去年))(?=.*(?:赔|医药费|索赔|起诉|报销))"
        r".*(?:摔|砸|撞|咬|烫|受伤|骨折|骨裂|扭伤)"
    ),
    # carbon monoxide in a home now: "我妈昨晚烧炭取暖 现在头晕想吐 叫她都不太应" (never the news
    # from elsewhere, "某地一家三口烧炭中毒", which 往事/hearsay rules keep quiet)
    "中毒": re.compile(
        r"(?=.*(?:烧炭|炭盆|炭火|煤炉|煤球炉|蜂窝煤|燃气热水器|一氧化碳|煤气))"
        r".*(?:头晕|头痛|头疼|想吐|恶心|呕吐|叫不醒|叫不应|不太应|喊不醒|昏昏沉沉|晕乎乎|站不稳|嘴唇发红|中毒了)"
    ),
    # advice to a neighbour, not a question: "去劳动监察大队告他 我侄子就是这么要回来的"
    "指点": re.compile(r"^(?!.*(?:[?？吗呢]|么$|怎么|咋|能不能|可不可以))(?:你|您)?(?:可以|直接|赶紧|就)?去\S{0,10}(?:告|投诉|申请|起诉|找|报警)"),
    # a spouse or parent gone, their home or savings to share: "我老伴走了 房子写的是他的名字 两个儿子闹着要分"
    "继承": re.compile(
        r"(?=.*(?:房子|房产|遗产|存款|遗嘱|分家|要分|怎么分|争房|写的是|个人账户|抚恤金|丧葬费))"
        r".*(?:老伴|老头子?|老公|丈夫|妻子|父亲|母亲|我爸|我妈|老爸|老妈|公公|婆婆)\S{0,3}(?:走了|去世|过世|不在了|没了)"
    ),
    # a danger told as past and over: "上个月五楼那次着火 还好发现得早 现在想起来还后怕", "上礼拜有个冒充
    # 燃气公司的来收检测费 被老头子骂走了", "昨天晚上在楼梯摔了一跤 还好没事"
    "污水外溢": re.compile(
        r"(?:下水道|地漏|马桶|化粪池|污水井|下水管|下水)\S{0,8}(?:堵|返|冒)[^。！!？?]{0,24}(?:漫|淹|冒|淌|流)|污水\S{0,4}(?:漫|冒|淌|流)"
    ),
    "分类知识": re.compile(r"(?:是|属于|算|才是|归)(?:其他|厨余|可回收|有害|干|湿)(?:垃圾)?(?:\W|$|[我你他她吧呢啊哦])"),
    "旧伤": re.compile(
        r"^(?=.*(?:前天|昨天|昨晚|上周|上礼拜|上星期|前几天|前阵子|上个月|去年|那天))"
        r"(?!.*(?:起不来|爬不起来|站不起来|没反应|叫不醒|不应|流血|昏|现在|刚才|刚刚|还躺))"
        r".*(?:摔|跌)(?:了|倒了?|伤了?|断了?)"
    ),
    "往事": re.compile(
        r"^(?=.*(?:上个月|上礼拜|上周|上星期|上次|上回|那次|去年|前年|以前|之前|昨天|昨晚|前天|前几天|前阵子|那天|有一次))"
        r"(?=.*(?:还好|幸好|好在|后怕|骂走|赶走|轰走|吓跑|没开门|没上当|没受伤|没出事|过去了|以后|下次|吓死人了)).*"
    ),
    # a stranger at one's door at night: "凌晨三点有个陌生男的一直在敲我家门 还拧门把手"
    "闯门": re.compile(
        r"(?:陌生|不认识)\S{0,6}(?:敲|拍|砸|踹|撬|拧|扭|推|拽)\S{0,5}(?:门|门把手|锁)"
        r"|有人\S{0,4}(?:撬|砸|踹)\S{0,2}(?:我家|我们家)?(?:门|锁)|(?:拧|扭)\S{0,6}门把手"
        # a threat at the door now: "502那男的冲到我家门口 说要打我 现在还在门口砸门"
        r"|^(?=.*(?:说要|扬言|要来|要)(?:打|砍|杀|弄死)\S{0,2}我).*(?:还在|正在|现在)\S{0,6}(?:砸|踹|敲|拍|堵)\S{0,2}门"
        # someone dangerous here now (blind replay s30e): following me up the stairs, a burglar maybe
        # still inside, cutting the wires, luring a child away; a home just found broken into (110 now)
        r"|(?:一直|一路)?跟(?:着|踪)我\S{0,12}(?:上楼|进单元|进楼|回家|到家|门外|门口|楼上)|尾随"
        r"|^(?=.*(?:撬|贼|偷|不敢进|翻得|破门)).*(?:(?:里面|屋里|家里|屋里头)(?:还|好像|可能)+有(?:动静|声音|人)|人\S{0,4}还在(?:里面|屋里|家里))"
        r"|拿着?\S{0,2}(?:钳子|剪刀|刀子?|改锥|撬棍)\S{0,6}(?:剪|割|撬|砍)|(?:偷|剪)(?:铜线|电缆)"
        r"|(?:陌生|不认识)\S{0,12}?(?:说是|自称|讲是)\S{0,6}(?:同事|朋友|亲戚|老师)\S{0,12}(?:要)?(?:带|接)(?:他|她|孩子|小孩|走)"
        r"|(?:家里|家|屋里)(?:被|遭)(?:偷|盗|贼)|入室(?:盗窃|偷)|进(?:了)?贼|(?:窗户?|门|锁)\S{0,2}被撬(?:开)?\S{0,12}(?:翻|偷|少了|丢了|没了)"
    ),
    # a forwarded list of tips: "【转发】冬季居家安全小常识 …一、闻到煤气味千万不要开灯…二、…转发就是积德"
    "转发科普": re.compile(r"^(?=.*(?:【转发】|转发就是|转给家|转发给家|请转发))(?=.*(?:一、|1[、.]).*(?:二、|2[、.]))"),
    # help to get somewhere, asked of neighbours: "儿子在外地回不来 有没有人能陪我去一趟"
    "求陪同": re.compile(
        r"(?:有没有|有|谁|哪位|哪个)(?:人|志愿者|邻居|好心人|年轻人)?(?:能|可以|有空|方便)?(?:帮忙)?(?:陪|带|送)"
        r"(?:我|我妈|我爸|老人|她|他|老伴)(?:去|到)"
    ),
    # a hand asked of neighbours by someone who cannot manage alone (old, alone, unable, or for a
    # parent far away): "我一个老婆婆爬不上去 哪个帮我换一哈嘛", "腿不好去不了 有没有人能帮忙跑一趟开点药",
    # "哪个年轻人有空上来教教我" (never "谁帮我带个快递": nobody there says they cannot)
    "求帮忙": re.compile(
        r"^(?=.*(?:老人|老太|老头|老婆婆|老爷子|老伴|我一个|一个人|够不着|爬不上|弄不来|弄不了|弄不动|不会|腿不好|腿脚不"
        r"|走不动|搬不动|拿不动|抬不动|拧不动|在外地|不在家|眼睛不好|看不清|我妈|我爸|奶奶|爷爷|婆婆|阿婆|阿伯"
        r"|走不了|下不去|上不去|老寒腿|坐轮椅|轮椅))"
        r".*(?:有没有|谁|哪位|哪个|麻烦|求)(?:人|志愿者|邻居|好心人|年轻人|师傅|小伙子?|找个?人)?(?:能|可以|有空|方便)?"
        r"(?:上来|过来|来|上门|下来)?(?:帮忙|帮个忙|帮帮忙)?"
        r"(?:帮|教|扶|背|抬|搬|换|修|弄|跑一趟|去一趟|看看|去看看|过来看看)(?:我|我妈|我爸|她|他|老人|一下|一趟|一哈|下|教|看|忙|帮我|个忙)"
        # "哪个晓得修空调的帮忙喊一个嘛": someone to fetch a repairer
        r"|^(?=.*(?:老人|老汉|老头|老太|老婆婆|一个人|腿脚不|走不动))(?=.*(?:有没有|谁|哪位|哪个|麻烦)).*帮忙(?:喊|叫|找|请)(?:一个|个|一下|下)"
    ),
    # water pouring out now: "水管冻裂了 水哗哗的往楼梯下面淌" (never rain: "雨哗哗地下")
    "涌水": re.compile(
        r"水\S{0,2}(?:哗哗|哗啦啦|呼呼)\S{0,4}(?:往|流|淌|冒|喷|涌)|(?:往|顺着)楼梯(?:下面?|往下)?(?:淌|流)水?|水(?:淌|流)到楼梯"
        # "水从门缝底下往楼道里淌 哗哗的 都流到楼梯上了"
        r"|^(?!.*雨)(?=.*水).*(?:往楼道里?(?:淌|流|灌|涌)|(?:淌|流|漫)到楼梯上)"
        # "水从我家502卫生间天花板哗哗的往下流 地上都是水了" (never rain: "雨哗哗地下")
        r"|^(?=.*水)(?!.*雨).*(?:天花板|屋顶|楼顶|吊顶|墙上|管子)\S{0,3}(?:哗哗|哗啦啦)\S{0,3}(?:往下|往外)?(?:流|淌|冒|喷|涌|漏)"
        r"|^(?!.*雨)(?=.*(?:漏|流|淌|管|阀)).*(?:地上|屋里|家里|客厅)(?:全|都)是水了?"
    ),
    # how to report, asked, naming nothing: "请问有东西坏了怎么报修", "找谁反映问题啊"
    "问怎么报": re.compile(
        r"^\W*(?:(?:刚|新)搬来的?|我是新来的|请问|问一下|问下|想问下?)*\W*"
        r"(?:(?:家里|楼道里?)?(?:或者|还是|和|跟)?(?:家里|楼道里?)?有(?:东西|什么|啥)\S{0,3}坏了\W*)?"
        r"(?:要|该|应该)?(?:怎么|咋|如何|去哪里?|找谁|跟谁)(?:报修|反映问题|反映|投诉|报)(?:呢|啊|呀|哦)?\W*$"
    ),
    # ice underfoot where people walk: "单元门口那个下坡结冰了 滑得站不住" (never "窗户上结冰了")
    # water or power failing with no notice, or weak: "水压还是那么小", "怎么突然停电了 也没看到通知啊",
    # "水龙头全都关了 水表还在转" (a problem for the staff, never a notice)
    "供应异常": re.compile(
        r"水压\S{0,6}?(?:小|低|不够|不足|上不来|太弱)|水(?:流|量)\S{0,4}?(?:很|太|特别|好)?(?:小|细)(?:了|得)"
        r"|(?:突然|怎么)(?:就)?(?:停电|停水|断电|断水|没电|没水|没气)\S{0,12}?(?:没|没有)(?:看到|收到|接到|见到|发)?(?:过)?(?:任何)?(?:通知|公告)"
        r"|水表\S{0,4}?(?:还在|一直|自己|照样)(?:转|走|跑)"
    ),
    # something stolen: "车棚里我电动车的电瓶被偷了", "门口的快递又被人拿了" (a report; a found wallet is 失物)
    "失窃": re.compile(
        # (never asked about: "被偷的是哪家啊", "万一是小偷呢"; a claim for it is a legal question)
        r"^(?!.*(?:哪家|谁家|哪个|哪户|万一|(?:是不是|会不会)\S{0,3}(?:小偷|贼)|赔|吗|[?？]|盗刷|转账|汇款|账户|骗))"
        r".*(?:被偷|偷走|偷了|失窃|被盗|遭贼|小偷|贼骨头|(?:快递|包裹|头盔|电瓶|电池|车筐)\S{0,6}(?:被人?)?(?:拿走|拿了|顺走|没了|不见了|丢了))"
    ),
    "结冰路滑": re.compile(
        r"(?:台阶|下坡|上坡|坡道|斜坡|路面|门口|路上|楼梯|过道|地面)\S{0,6}?(?:结冰|结了(?:一层|层)?冰|冻上|冻住|冻成冰|全是冰)"
        r"\S{0,10}?(?:滑|摔|站不住|走不了|危险)"
    ),
    # someone trapped in a stopped lift: "五楼电梯卡住了 里面有人"
    "困梯": re.compile(
        r"电梯\S{0,8}(?:卡住|停了|不动|坏了|下坠|掉下去|冲顶|门打不开)\S{0,8}"
        r"(?:(?:里面|里头|轿厢)\S{0,3}(?:有人|有个|还有|关着)|(?:有人|有个\S{0,3})(?:在|关在|困在)(?:里面|里头|轿厢)(?=$|[^\u4e00-\u9fff]|[呢啊呀了哪]))"
        # someone shut in a lift now: "被关在里面出不来", "卡在7楼跟8楼中间", "我跟孩子困在里面"
        r"|^(?=.*(?:电梯|轿厢))(?!.*(?:差点|险些|差一点|上次|上回|上周|以前|之前|昨天|前天|去年|老是|每次|经常|总是|又正常))"
        r".*(?:被关|关在(?:里面|里头|电梯|轿厢)|困在|被困|困住|困咗|出不来|出不去|[卡停]在\S{0,10}(?:中间|之间|半空|半道)"
        # "电梯里关着人 在里面喊救命 一直拍门": someone shut in, calling out
        r"|(?:电梯|轿厢)(?:里|里面|里头)\S{0,2}(?:关着|困着|卡着)|(?:里面|里头|轿厢里)\S{0,3}(?:喊救命|喊人|拍门|砸门|哭喊)"
        # "电梯卡住了 … 我外孙一个人在里面": someone of theirs inside
        r"|(?:孙子|孙女|外孙女?|孩子|小孩|娃|宝宝|老人|我妈|我爸|老伴|老头子?|老太婆|儿子|女儿|老公|老婆|阿妈|阿爸|奶奶|爷爷|外婆|外公|姥姥|姥爷|他|她)"
        r"(?:一个人|自己|一人)?(?:还|都)?(?:在|关在|困在|喺)(?:里面|里头|入面|电梯里|轿厢里)"
        r"(?!玩|贴|吃|睡|坐|等|打|看|修|装|放|拿|躲|写))"
    ),
    # a fire burning now, whatever is burning: "纸箱烧起来了", "火不小", "起火了"
    "起火": re.compile(
        r"(?<!(?<!沙)发)(?<!发烧)(?:烧起来|烧着了|烧了起来|着起来了|着火了|起火了|失火了|火不小|火很大|火好大|火挺大|火势|"
        r"火苗\S{0,4}(?:窜|蹿|冒)|冒烟了|在冒烟|(?:冒|窜|蹿)(?:出)?火苗|明火)"
    ),
    # someone hurt by something falling: "砸到楼下一个小孩头上了，流了好多血", "花盆砸伤了人"
    "坠物伤人": re.compile(
        # onto someone: "砸到小孩头上", "掉在他身上" (not "钥匙掉在2楼楼梯口了 我挂在扶手上", "掉到人家阳台")
        r"(?<!差点)(?<!差一点)(?<!险些)(?<!没)(?:砸|掉|落|坠)(?:到|中|在|伤)了?(?:我|\S{0,5}(?:头|脑袋|脸|身上|人(?!家)|孩子|小孩|老人))"
        r"|^(?=.*(?:扔|抛|掉下|砸|坠|落下))(?!.*(?:差点|险些|差一点|没砸|没伤|没有伤|没事))"
        r".*(?:流了?\S{0,4}血|出血|受伤了|砸伤|骨折|头破|缝了\S{0,2}针)"
    ),
    # talk about safety, not a danger: a lecture, a drill, a leaflet ("今天的消防讲座学了灭火器怎么用")
    "宣教": re.compile(
        # (not a con's bait: "发鸡蛋骗老人去听讲座")
        r"(?<!听)讲座|演练|科普|知识竞赛|学了|学到了|学会了|教我们|教大家|公开课"
        r"|(?:消防|安全|反诈|防诈|防骗|防火|急救|燃气|用电|防汛)\S{0,4}(?:培训|宣传|知识|课|活动)"
    ),
    # an elderly neighbour not seen or not answering: "独居老人好几天没出门 敲门也没人应"
    "无应答": re.compile(
        r"(?=.*(?:老人|老太|老头|老大爷|老爷子|老两口|老伴|大爷|大妈|奶奶|爷爷|阿姨|叔叔|独居|孤寡|空巢"
        r"|我爸|我妈|老爸|老妈|父亲|母亲|我婆婆|我公公|一个人住|老[\u4e00-\u9fff]头|阿婆|阿公|阿伯|老伯|阿妈|阿爸|阿嫲|阿爷))"
        r"(?:.*(?:敲门|叫门|按门铃|拍门)\S{0,6}(?:没人应|没人开|不开门|没反应|没动静|没回应|也不应|不应|不开|没人答应)"
        r"|(?=.*(?:独居|一个人住|孤寡|空巢|担心|不放心|出事|没动静|没人接|不接|敲门))"
        r".*(?:几天|好几天|两天|三天|多天|\d+天|这两天|一整天|一直)\S{0,3}没(?:出门|出来|见|看到|看见|露面|下楼|动静|开门|开灯|拿快递|取牛奶)"
        r"|(?=.*(?:独居|一个人住|孤寡|空巢)).*电话\S{0,6}(?:没人接|不接|关机|打不通|冇人听|冇人接|唔听|唔接|打唔通)"
        # "我妈两天没接电话了 她一个人住", "我阿妈一个人住喺402 今日打咗成日电话都冇人听"
        r"|(?=.*(?:独居|一个人住|孤寡|空巢|担心|不放心)).*(?:几天|好几天|两天|三天|多天|\d+天|一整天|一天|成日|今日)\S{0,4}(?:没|冇)(?:接|听|回)电话)"
        # someone the group was just talking about, reached neither at the door nor by phone: "我刚上去敲门了
        # 一直没人应 打她电话也打不通" (never a noisy or leaking neighbour who will not answer)
        r"|^(?!.*(?:吵|装修|噪音|漏|渗|堆|狗|车|占|味))(?=.*(?:打(?:她|他)|(?:她|他)(?:的|家)?(?:电话|手机)))"
        r".*(?:敲门|叫门|按门铃|拍门|敲了门)\S{0,6}(?:没人应|没人开|不开门|没反应|没动静|没回应|也不应|不应|没人答应)"
        r".*(?:打不通|没人接|不接|关机)"
    ),
    # a follow-up on a reported problem: "还是没人修", "有人管吗 都一个礼拜了", "又来了", "还在咚咚咚"
    "跟进": re.compile(
        r"还是?没(?:人)?(?:修|管|处理|弄|来|好|解决|动静|回复|人理|打电话|联系)|(?:有人管|有没有人管|到底管不管|管不管)|(?:咋|怎么)还(?:没|是|在)"
        r"|(?:到底|那)?(?:什么|啥)时候(?:才|能)?(?:来|修|管|处理|弄|换|装)"
        r"|还没(?:修|好|处理|解决|人|弄|来|清|搬|拿走)|还不(?:清|修|管|处理|弄|来|收|搬)|又(?:来了|开始|在|没人|出|坏|停|黑|" + AGAIN_VERBS + ")"
        r"|又是\S{0,6}(?:开钻|电钻|钻|装修|施工|咚咚|吵|漏|堵|停电|停水|坏)"
        r"|(?:怎么样|咋样|如何|处理)了|处理了吗|有结果了吗|有下文吗|有回复吗|(?:修|处理|解决|清理|搬走)(?:好|完)?了?没有?"
        r"|还是(?:坏|不亮|不行|不通|堵|漏|黑|老样子|那样|一样|关不上|打不开|锁不上|不热|凉|滑|抖)|(?:还|到底)?(?:修|管|弄)不(?:修|管|弄)"
        r"|有没有人(?:来|去)(?:看|修|管|处理)|(?:一|两|三|几|\d+)个多(?:礼拜|星期|月)了|说了(?:多少|好几|几)次|反映(?:过|了)?(?:好|多)?几次|多少次了|还在(?:吵|响|咚|咣|哐|砰|嘭|漏|堵|滴|冒|敲|装修|堆|住|放|闹|叫|弹|剁|拉|臭|贴|呢|那)"
        r"|还是\S{0,4}(?:叫|吵|响|闹|拖|跺|漏|堵|臭|滴|拉|堆|占)|还在\S{0,4}[充冲]|还在(?:往下)?(?:滴|渗|哗啦啦)"
        r"|说好(?:的)?\S{0,8}?(?:现在|结果)\S{0,10}?还|(?:说|讲)(?:的|好的?)?(?:来查|来修|来看|来弄)\S{0,2}也没来|说了等于没说|等于白说|说了也白说|说了跟没说一样|说了也不听|说了也没用|根本没用|一点用都没有"
        r"|又\S{0,2}(?:拍|跑|跳|蹦|闹|吵|弹|剁)到"
        # "昨晚唱到十二点", "更来劲了", "说好的第二天来清呢": it goes on, or what was promised has not come
        r"|(?:唱|吵|闹|跳|蹦|跺|敲|打|喝)到(?:快|了)?(?:十一|十二|一|两|三|半夜|凌晨|后半夜|\d{1,2})点?|更来劲|更厉害了|说好的\S{0,8}(?:呢|啊|吧)"
        r"|又(?:看到|看见|发现|碰到|遇到)|还(?:停|堆|放|挂|摆|占)(?:在|着)|一点(?:都|也)?没动"
        r"|(?:一张|一点|一个)?都没(?:撕|清|搬|拿走|动|修|弄)|啥子?时候(?:来|修|管|处理|弄)"
        r"|(?:也|都|还)没(?:个|点)?动静|有人联系了?没|有没有人联系|联系了没|(?:也|都)没人(?:来|修|管|处理|理|问|看)"
        r"|管了没有?|管没管|有没有管|有人(?:去|来)(?:过|了)(?:吗|没有?)"  # "换灯泡的事 有人去了吗"
        r"|没(?:了|有)?下文|到现在还是|还是(?:晃|松|摇)"  # "回了个编号就没下文了 扶手到现在还是晃的"
        r"|都(?:快要?|已经|有)?(?:[一两二三四五六七八九十几]{1,2}|好几|半|\d+)?(?:个多?|多个?)?(?:天|周|礼拜|星期|月)了|催(?:一下|催|办)|有进展吗|进展(?:如何|怎么样)"
    ),
    # a neighbour's "me too" under a report: "我家也是", "我们家也漏了", "+1", "同楼上"
    "附议": re.compile(
        r"^\W*" + ME_TOO_WHO + r"(?:也是|也一样|也有|也遇到|也这样|也出现|" + ME_TOO_TROUBLE + r"|同样|一样)"
        r"|^\W*(?:同楼上|同上|[+＋]1|加一|一样的情况|同样的情况|同样情况|一样的问题|同样的问题)"
        r"|^\W*" + FLAT_ALSO  # "402也在滴", "3-302也漏了" (a flat says how, not a bare "2023也是")
    ),
    # talk about a danger, not a danger: films, dreams, similes ("着火了似的好热闹")
    "虚构": re.compile(
        r"电视剧|电影里|剧里|视频里|小说里|新闻里|新闻上|新闻(?:说|报|讲|播)|看新闻|看到新闻|看了新闻|游戏里|梦里|梦见|梦到|(?<!不是)演习|似的|(?:像|跟)\S{0,6}一样|玩游戏|闹着玩|开玩笑|演戏|拍戏"
        # "吓死我了 还以为着火了": what one feared, and it was not
        r"|(?:还|我还|都|差点)以为(?:是)?\S{0,3}(?:着火|起火|失火|冒烟|漏气|煤气|燃气|地震|出事)"
        # "看到消防车了 不知道哪着火了": somewhere else (in or near one's building it is a danger)
        r"|^(?!.*(?:楼道|楼下|楼上|我家|隔壁|对门|单元|门口|走廊|家里|这栋|我们楼)).*哪\S{0,3}(?:着火|起火|失火|冒烟)|哈哈|呵呵|嘻嘻|笑死|😂|\[(?:捂脸|笑哭|偷笑|破涕为笑|呲牙)\]"
        r"|太火了|好火啊|爆火|火遍|火出圈"
        # a forwarded article or chain message about somewhere else: "【转发】紧急扩散！！某小区电动车…起火 转给大家看看"
        r"|【转发】|" + _SPREAD_ELSEWHERE + r"|转给大家|转发给大家|转发一下|某小区|某地|某市"
        # hearsay from elsewhere or the past: "听说隔壁小区昨天着火了"
        r"|(?:听说|据说|听人说)\S{0,12}(?:昨天|昨晚|前天|前晚|上周|上个月|去年|以前|之前|那天|别的小区|其他小区|对面小区|隔壁小区|外地)"
        r"|(?:别的小区|其他小区|对面小区|隔壁小区)\S{0,8}(?:昨天|昨晚|前天|前晚|上周|上个月|去年|之前|上次|上回|那次|以前)"
        r"|(?:昨天|昨晚|前天|前晚|上周|上个月|去年|上次|上回|那次|以前|之前)\S{0,6}(?:别的小区|其他小区|对面小区|隔壁小区)"
    ),
    # "有事打我电话": call me, not someone hitting me (the 打我 inside is no alarm)
    # asking who complained, or for their details: "谁投诉我家狗叫的", "把反映噪音的人电话给我"
    # (never a report, never a voice on the ticket it is about: handlers.privacy_commands answers)
    # what happened elsewhere, passed on: TV, a forwarded article, yesterday's drill (no report here)
    "转述": re.compile(
        r"(?:看|在看)电视(?:的时候)?\S{0,3}(?:看到|说|播|报|里面?那|上面?那)|电视(?:里|上)\S{0,3}(?:说|播|放|演|报)|电视剧|电影里|新闻里|新闻上|【转发】|"
        + _SPREAD_ELSEWHERE + r"|转给大家|转发给大家|转发一下|某小区|某地|某市"
        r"|(?<!不是)演习|(?:消防|应急|疏散|防空|地震)演练|演练的时候|烟雾弹"
        # hearsay from another estate: "听说隔壁小区除夕晚上有户阳台被烟花点着了", "听说隔壁阳光小区电梯坏了"
        r"|听说(?:隔壁|别的|旁边|附近|外面|那边|其他|人家|对面)\S{0,6}(?:小区|村|院|楼盘|大院|街道)"
        r"|看(?:了|到)?新闻|新闻(?:说|报道|播|讲)"  # "昨晚看新闻 别的小区有户人家电动车推回家充电着火了"
    ),
    # a lesson passed on to everyone: "消防课讲了 闻到煤气味千万不要开灯 要先开窗 大家记住啊" (a danger's
    # own warning, "有人晕倒了 千万别动他", is no lesson)
    "叮嘱": re.compile(r"(?:课|讲座|培训|宣传|老师|民警|消防员|专家)\S{0,6}(?:讲|说|教)(?:了|过)\S{0,24}(?:千万|记住|切记|一定要)"),
    "问反映人": re.compile(
        r"(?:谁|哪个|哪位|哪家)(?:在|去|给)?(?:投诉|反映|举报|告状|告)(?:的|了|我|俺|咱)|是谁(?:在|去)?(?:投诉|反映|举报|告状)"
        r"|是不是\S{0,6}(?:投诉|反映|举报|告状|告)(?:的|了|我|俺|咱)|背后(?:搞小动作|告状|打小报告)|你就(?:说|告诉我)\S{0,2}是不是"
        r"|(?:投诉|反映|举报|告状)\S{0,8}的(?:那个|那家)?人\S{0,3}(?:电话|手机|号码|名字|姓名|是谁|住哪|哪家|几楼|给我|告诉我)"
        r"|有本事(?:站出来|当面|出来)|(?:告诉|说)我\S{0,4}是谁"
        r"|(?:投诉|反映|举报|告状)(?:的)?人(?:的)?\S{0,2}(?:电话|手机|号码|名字|姓名|是谁|住哪|哪家|几楼)"  # "把举报人电话给我"
        r"|(?:谁|哪个|哪位|哪家)(?:说|讲)(?:的)?(?:我家|我们家|我)\S{0,6}(?:扔|吵|乱|弄|放|堆|跺|拍|跑|闹|养)"  # "是哪个说我家孩子扔的"
    ),
    "回电": re.compile(r"打(?:给)?我(?:的)?(?:电话|手机|座机|微信|语音)|打我\s*[\d１-９*＊]{5,}|有(?:事|消息|情况|问题|需要|啥事)\S{0,3}打我|打我(?:就行|就好|就可以)"),
    # a stove or lighter that will not light is a repair, not a fire: "煤气灶打不着火了"
    "快来办": re.compile(r"快来人?(?:弄|清|收|处理|搬|拿|打扫|管|看看|修)"),
    "点不着": re.compile(r"(?:打|点|烧)不(?:着|燃)|打不出火|着不了火|点不了火"),
    # a danger that did not happen: "差点摔了", "差一点砸到人" (the word it names is no alarm)
    "未遂": re.compile(
        r"(?:差点|差一点|险些|差些|幸好没|还好没|好在没|差点儿)\S{0,6}?(?:摔|砸|滑|绊|撞|磕|跌|晕)\S{0,2}"
        r"|(?:快要?|都要|要|热得|累得|饿得|气得)(?:晕|昏|累|热|饿|气)\S{0,3}"
    ),
    # a danger already over: "师傅已经修好了", "住院了", "虚惊一场" (a report, not an emergency)
    "已处置": re.compile(
        r"修好了|已经修好|弄好了|住院了|送医院了|送到医院|已经送医|出院了|没事了|虚惊一场|又好了|火已经灭|已经灭了|已经扑灭|已经救出来|救出来了"
        r"|(?<![有是])没有?漏气|(?<!是)不是(?:漏气|煤气|燃气|天然气)|已经关火|大家放心"  # "是402烧干锅了 已经关火开窗了 没有漏气 大家放心"
    ),
    # warnings about fraud, not a fraud under way: "提醒大家 冒充客服让转账的都是骗子"
    "防骗提醒": re.compile(
        r"提醒|谨防|警惕|提防|注意防|(?<!要)不要(?:相信|轻信|转账|点)|千万(?:别|不要)|都是(?:骗|诈)|一律是|就是诈骗|不会(?:让|要求)"
        r"|不存在|没有所谓|防骗|反诈|宣传|大家(?:注意|小心)"
    ),
    # the same warning told to one's own, nothing asked: "爸 妈 … 都是骗子 千万别转 有事先给我打电话"
    "叮嘱家人": re.compile(r"千万(?:别|不要|莫)(?:转|信|给|点|接|扫|说)|都是骗子|(?:大家|各位)\S{0,4}(?:注意|小心|提高警惕|当心)"),
    # announcements address an age group: "60岁以上老人", "65周岁以上"
    "年龄段": re.compile(r"\d{2}\s*周?岁(?:以上|以下|及以上)"),
    # a danger only imagined ("着火了就完了", "万一起火"): no urgent flag
    "假设": re.compile(r"(?:万一|要是|一旦|如果|容易|可能会|会|怕|真要|真的要|真)\S{0,4}(?:着火|起火|失火|爆炸|漏电|触电)|(?:着火|起火)了?就|(?:着火|起火|失火)了?(?:咋办|怎么办|咋个办|谁负责)"),
    # a threat to call the police, said in a quarrel: "谁说我家偷的 有证据吗 再乱说我报警了" (no danger)
    "威胁报警": re.compile(r"(?:再|要是|敢|你再)\S{0,6}(?:乱说|胡说|瞎说|造谣|污蔑|冤枉|诬赖|说)\S{0,4}(?:我就?|就)?(?:报警|告你|找派出所)"),
}



@dataclass
class _Hit:
    term: str
    weight: float


@dataclass(frozen=True)
class _Urgent:
    term: str       # the word, or "#pattern"
    category: str   # the petition category of the danger; "-" = the danger is only imagined
    danger: bool    # True: adds the danger bonus; False: an alarm word, raises the flag only
    kind: str | None = None  # the danger kind (lexicon `danger_kinds`): which advice fits


class Router:
    """Routes one message; thread-safe after construction (read-only tables)."""

    def __init__(self, lexicon_path: Path | None = None, userdict_path: Path | None = None) -> None:
        segment.setup(userdict_path)
        raw = load_unique((lexicon_path or LEXICON_PATH).read_text(encoding="utf-8"))
        self._load(raw)

    # ---- loading -------------------------------------------------------------------------
    def _load(self, raw: dict[str, Any]) -> None:
        settings = raw.get("settings", {})
        self._objects_memo: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # Router.objects, per text
        self._last_route: tuple[str, bool, Route] | None = None  # Router.route's last answer
        self.max_chars: int = int(settings.get("max_chars", 2000))
        self.thresholds: dict[str, float] = {k: float(v) for k, v in raw["thresholds"].items()}
        self.staff_prior: dict[str, float] = {k: float(v) for k, v in raw.get("staff_prior", {}).items()}
        self.single_cue_min: float = float(settings.get("single_cue_min", 3.0))
        self.short_len: int = int(settings.get("short_len", 4))
        self.short_penalty: float = float(settings.get("short_penalty", 1.0))
        # long messages are letters or questions, not chat: [(min_len, {label: w}), ...]
        self.length_bonus: list[tuple[int, dict[str, float]]] = [
            (int(n), {k: float(v) for k, v in w.items()}) for n, w in raw.get("length_bonus", {}).items()
        ]
        # unknown tokens ending in a suffix (xx县 = a place, xx大学 = a university)
        sfx = raw.get("suffixes", {})
        self.suffix_stop: frozenset[str] = frozenset(sfx.get("stop", []))
        self.suffixes: dict[str, dict[str, float]] = {
            k: {lab: float(w) for lab, w in v.items()} for k, v in sfx.get("cues", {}).items()
        }
        self.suffix_lens = sorted({len(k) for k in self.suffixes}, reverse=True)
        self.defaults: dict[str, str] = dict(raw.get("default_category", {}))
        # homophone slips (煤汽 -> 煤气), longest first, fixed before segmenting
        typos = {str(k): str(v) for k, v in (raw.get("typos") or {}).items()}
        self.typos = typos
        self.typo_re = re.compile("|".join(map(re.escape, sorted(typos, key=len, reverse=True)))) if typos else None
        # term -> [(label, category|None, weight)]; one table so a scan is one lookup per n-gram
        table: dict[str, list[tuple[str, str | None, float]]] = {}

        def add(term: str, label: str, category: str | None, weight: float) -> None:
            table.setdefault(str(term), []).append((label, category, float(weight)))

        for label, cues in raw.get("labels", {}).items():
            for term, w in (cues or {}).items():
                add(term, label, None, w)
        self.category_order: dict[str, list[str]] = {}
        for label, cats in raw.get("categories", {}).items():
            self.category_order[label] = list(cats)
            for cat, cues in cats.items():
                for term, w in (cues or {}).items():
                    add(term, label, cat, w)
        for label, cues in raw.get("negatives", {}).items():
            targets = LABELS if label == "all" else (label,)
            for term, w in (cues or {}).items():
                for t in targets:
                    add(term, t, "-", -abs(float(w)))
        # Danger words: {fallback category: [terms]} (a plain list = 消防安全隐患). Any danger in
        # a message adds `urgent_petition_weight` ONCE to petition (someone must come), so two
        # danger words in a legal question do not outvote it; the category comes from the topic
        # cues plus `urgent_category_weight` for the danger word's own category.  Danger words of the
        # `urgent_legal` categories (a person in danger) also make a legal question urgent.
        # `alarm` words ({category: [terms]}: 救命, 快来人, 进水了) only raise the flag; their
        # weights (if any) live in the label and category cues, so "手机进水了" stays chat.
        self.urgent_weight = float(settings.get("urgent_petition_weight", 2.5))
        self.urgent_category_weight = float(settings.get("urgent_category_weight", 1.5))
        urgent_raw = raw.get("urgent", [])
        if isinstance(urgent_raw, list):
            urgent_raw = {"消防安全隐患": urgent_raw}
        for cat, terms in urgent_raw.items():
            for term in terms or []:
                add(term, "urgent", str(cat), 1.0)
        alarm_raw = raw.get("alarm", [])
        if isinstance(alarm_raw, list):
            alarm_raw = {"困难求助": alarm_raw}
        for cat, terms in alarm_raw.items():
            for term in terms or []:
                add(term, "alarm", str(cat), 0.0)
        self.urgent_legal: frozenset[str] = frozenset(raw.get("urgent_legal", []))
        self.patterns: dict[str, dict[str, float]] = {}
        self.pattern_urgent: dict[str, str] = {}
        # `cancel: all` (talk about a danger: no flag, no bonus), `cancel: <kind>` (only that
        # kind), `cancel: near` (a near miss: the danger words inside the match)
        self.pattern_cancel: dict[str, str] = {}
        self.followup_patterns: frozenset[str] = frozenset()
        self.pattern_category: dict[str, str] = {}
        for name, weights in raw.get("patterns", {}).items():
            if name not in _PATTERNS:
                continue
            weights = dict(weights or {})
            if "urgent" in weights:
                # `urgent: <category>` = a danger; `urgent: none` = the danger is only imagined
                self.pattern_urgent[name] = str(weights.pop("urgent"))
            if "cancel" in weights:
                self.pattern_cancel[name] = str(weights.pop("cancel"))
            if weights.pop("followup", False):
                self.followup_patterns |= {name}
            if "category" in weights:  # `category: 困难求助`: what the pattern's weight tells of
                self.pattern_category[name] = str(weights.pop("category"))
            self.patterns[name] = {k: float(v) for k, v in weights.items()}
        self._load_dangers(raw)
        self._load_objects(raw.get("objects") or {}, raw.get("object_patterns"))
        self._load_facility_fault(raw.get("facility_fault") or {}, table)
        self.table = {k: tuple(v) for k, v in table.items()}
        self.max_span = 4
        # every proper prefix of a term: lets the scan stop extending a run early
        self.prefixes = frozenset(t[:k] for t in table for k in range(1, len(t)))

    def _load_dangers(self, raw: dict[str, Any]) -> None:
        """Danger kinds ({kind: [words and #patterns]}, in priority order) and the label a kind's
        danger bonus goes to (a fraud under way is a legal matter; everything else a petition)."""
        self.danger_kind: dict[str, str] = {}
        self.kind_rank: dict[str, int] = {}
        for rank, (kind, terms) in enumerate((raw.get("danger_kinds") or {}).items()):
            self.kind_rank[str(kind)] = rank
            for term in terms or []:
                self.danger_kind.setdefault(str(term), str(kind))
        self.danger_label: dict[str, str] = {str(k): str(v) for k, v in (raw.get("danger_label") or {}).items()}
        # a term whose kind must win over a kind ranked before it ({term: that kind})
        self.term_rank: dict[str, float] = {
            str(term): self.kind_rank[str(kind)] - 0.5 for term, kind in (raw.get("danger_ranked_before") or {}).items()
        }

    def _load_objects(self, raw: dict[str, Any], raw_patterns: dict[str, Any] | None = None) -> None:
        """What a problem is about ({object: [words]}), to tell one problem from another.

        Names starting with "*" are generic ("*噪音": 吵, 噪音): they only decide when neither
        report names a specific object ("咚咚咚", "装修")."""
        self.object_of: dict[str, str] = {}
        for name, terms in raw.items():
            for term in terms or []:
                self.object_of.setdefault(str(term), str(name))
        # a table of its own, so object words never shadow a cue of the routing scan
        self.object_prefixes = frozenset(t[:k] for t in self.object_of for k in range(1, len(t)))
        # words apart that name one object ("501的狗天天叫": the barking, not the dog)
        self.object_patterns: list[tuple[str, re.Pattern[str], frozenset[str]]] = [
            (str(name), re.compile(str(spec["pattern"])), frozenset(spec.get("instead_of") or ()))
            for name, spec in (raw_patterns or {}).items()
        ]

    def _load_facility_fault(self, ff: dict[str, Any], table: dict[str, list]) -> None:
        """The facility + fault combination: {term: category} objects, fault and blocker sets.

        Every term is made scannable (an empty table entry if it carries no weight), so the
        combination costs one dict lookup per found term, no extra pass over the text.
        """
        self.ff_floor = float(ff.get("floor", 0.0))
        self.ff_category_weight = float(ff.get("category_weight", 0.0))
        self.ff_personal_weight = float(ff.get("personal_weight", 0.0))
        self.ff_window = int(ff.get("window", 6))
        # term -> category for facilities (pair with any fault) and places (only with a leak:
        # "楼上漏水了", "502室渗水", but not "楼上坏了")
        self.ff_objects: dict[str, str] = {}
        for key in ("places", "objects"):
            for cat, terms in (ff.get(key) or {}).items():
                for term in terms or []:
                    self.ff_objects[str(term)] = str(cat)
        leaks = set(map(str, ff.get("leaks") or []))
        faults = set(map(str, ff.get("faults") or [])) | leaks
        # term -> role bits: 1 facility, 2 place, 4 fault, 8 leak; 16 blocker; 32 personal device;
        # 64 clause break
        self.ff_role: dict[str, int] = {}
        for key, bit in (("personal", 32), ("places", 2), ("objects", 1)):
            groups = ff.get(key) or {}
            for terms in groups.values() if isinstance(groups, dict) else [groups]:
                for term in terms or []:
                    self.ff_role[str(term)] = bit
        for term in faults:
            self.ff_role[term] = self.ff_role.get(term, 0) | 4 | (8 if term in leaks else 0)
        for term in map(str, ff.get("blockers") or []):
            self.ff_role[term] = 16
        # clause breaks (punctuation, spaces): a facility and a fault pair only within a clause
        for term in map(str, ff.get("breaks") or []):
            self.ff_role[term] = 64
        for term in self.ff_role:
            table.setdefault(term, [])

    # ---- matching ------------------------------------------------------------------------
    def _scan(self, tokens: list[str], table: Any = None, prefixes: frozenset[str] | None = None) -> list[tuple[str, int]]:
        """Greedy longest match over runs of up to `max_span` adjacent tokens: (term, token index).

        Over the routing table, or another one (the objects') with its prefixes."""
        table = self.table if table is None else table
        prefixes = self.prefixes if prefixes is None else prefixes
        found, n, i, span = [], len(tokens), 0, self.max_span
        while i < n:
            token = tokens[i]
            if token not in prefixes:  # fast path: most tokens start no longer term
                if token in table:
                    found.append((token, i))
                elif len(token) >= (3 if table is self.table else 2):
                    found.extend((part, i) for part in self._parts(token, table))
                i += 1
                continue
            step = 1
            joined = ""
            best = None
            for j in range(i, min(n, i + span)):
                joined += tokens[j]
                if joined in table:
                    best, step = joined, j - i + 1
                if joined not in prefixes:
                    break
            if best is not None:
                found.append((best, i))
            elif len(token) >= (3 if table is self.table else 2):
                found.extend((part, i) for part in self._parts(token, table))
            i += step
        return found

    def _parts(self, token: str, table: Any) -> list[str]:
        """Cues inside an unknown long token: jieba glues words ("灯不亮", "月工资", "电梯困人")."""
        n, shortest = len(token), (2 if table is self.table else 1)  # objects may be one character: 修灯
        head = next((k for k in range(n - 1, shortest - 1, -1) if token[:k] in table), 0)
        tail = next((k for k in range(n - 1, shortest - 1, -1) if token[n - k:] in table), 0)
        parts = [token[:head]] if head else []
        if tail and head + tail <= n:
            parts.append(token[n - tail:])
        if not parts and table is self.table:
            sfx = self._suffix(token)
            if sfx:
                parts.append("@" + sfx)  # e.g. "@县" for an unknown "xx县"
        return parts

    def _suffix(self, token: str) -> str | None:
        if token in self.suffix_stop:
            return None
        for k in self.suffix_lens:
            if len(token) > k and token[-k:] in self.suffixes:
                return token[-k:]
        return None

    # ---- routing -------------------------------------------------------------------------
    def corrected(self, text: str) -> str:
        """The text with the lexicon's homophone slips (`typos`) put right, and flats said digit by
        digit in digits ("五零二收到", "我家四零二也被六零二漏下来的水泡了": 502, 402, 602)."""
        text = _SPOKEN_FLAT.sub(lambda m: "".join(_SPOKEN_DIGIT[c] for c in m.group(0)), text)
        return self.typo_re.sub(lambda m: self.typos[m.group(0)], text) if self.typo_re else text

    def route(self, text: str, *, staff: bool = False) -> Route:
        # The dispatcher routes a message, then its handler asks again: the last answer is kept
        # (one tuple, swapped whole: safe across threads).
        last = self._last_route
        if last is not None and last[0] == text and last[1] == staff:
            return last[2]
        found = self._route(text, staff)
        self._last_route = (text, staff, found)
        return found

    def _route(self, text: str, staff: bool) -> Route:
        text = self.corrected((text or "")[: self.max_chars].strip())
        if not text:
            return Route("other", None, False, 0.0, ())
        terms = self._scan(segment.cut(text))
        scores = {lab: 0.0 for lab in LABELS}
        cats: dict[str, dict[str, float]] = {lab: {} for lab in LABELS}
        cues: dict[str, list[_Hit]] = {lab: [] for lab in LABELS}
        urgent_hits: list[_Urgent] = []
        seen: set[str] = set()
        ff_role, ff_objects, ff_faults, blocked, clause = self.ff_role, [], [], False, 0
        for term, pos in terms:
            role = ff_role.get(term)
            if role is not None:
                if role & 64:
                    clause += 1  # "~" and "…" are also negative cues: fall through to the weights
                elif role & 16:
                    blocked = True
                else:
                    if role & 35:
                        ff_objects.append((pos, term, role, clause))
                    if role & 4:
                        ff_faults.append((pos, role, clause))
            if term in seen:
                continue  # a repeated word is not more evidence
            seen.add(term)
            if term[0] == "@":
                for label, w in self.suffixes[term[1:]].items():
                    scores[label] += w
                    cues[label].append(_Hit("@" + term[1:], w))
                continue
            for label, cat, w in self.table[term]:
                if label == "urgent" or label == "alarm":
                    urgent_hits.append(_Urgent(term, cat or "", label == "urgent", self.danger_kind.get(term)))
                    continue
                scores[label] += w
                if cat == "-":
                    cues[label].append(_Hit("-" + term, w))
                    continue
                cues[label].append(_Hit(term, w))
                if cat is not None:
                    cats[label][cat] = cats[label].get(cat, 0.0) + w
        if ff_faults and (ff_objects or blocked):
            self._apply_facility_fault(ff_objects, ff_faults, blocked, scores, cats, cues)
        if len(text) >= LONG_CHAT:
            _soften_chatter(scores, cues)
        followup = self._apply_patterns(text, scores, cats, cues, urgent_hits)
        in_danger = self._apply_danger(urgent_hits, scores, cats, cues)
        if in_danger == "petition":  # a danger is no personal repair ("电话手表打不通" of a missing boy)
            for hit in [h for h in cues["petition"] if h.term in NOT_A_REPAIR]:
                scores["petition"] -= hit.weight
                cues["petition"].remove(hit)
        for min_len, weights in self.length_bonus:
            if len(text) >= min_len:
                for lab, w in weights.items():
                    scores[lab] += w
        if len(text) <= self.short_len:
            for lab in LABELS:
                if lab != in_danger:  # "老公打我", "着火了": short, and a danger all the same
                    scores[lab] -= self.short_penalty
        if staff:
            for lab, w in self.staff_prior.items():
                scores[lab] += w
                cues[lab].append(_Hit("#工作人员", w))
        return self._decide(scores, cats, cues, urgent_hits, followup)

    def _apply_facility_fault(
        self,
        objects: list[tuple[int, str, int, int]],
        faults: list[tuple[int, int, int]],
        blocked: bool,
        scores: dict[str, float],
        cats: dict[str, dict[str, float]],
        cues: dict[str, list[_Hit]],
    ) -> None:
        """A facility and a fault word near each other: a repair request, whatever its length.

        "电梯坏了", "水龙头出的水是黄的", "门禁卡刷了没反应". Each fault word goes with the
        nearest facility, place or personal device within `window` tokens of the same clause
        ("电梯里信号不好 电话断了": the phone's), or of the clause before when its own clause
        names none ("电梯晃得厉害 还有异响"). A facility pair lifts
        petition's positive cues to at least `floor` (so a long message that already reads as a
        complaint or as a legal question is not pushed further) and adds to the facility's
        category. A fault that belongs to a personal device ("手机坏了", "冰箱坏了修一下多少钱"),
        or any fault in a message with a blocker ("出个坏了的电饭煲", "梦见电梯坏了"), is
        nobody's repair: `personal_weight` is subtracted from petition instead.
        """
        if blocked:
            self._not_a_repair(scores, cues, "-#非报修")
            return
        window, personal = self.ff_window, False
        for fpos, frole, fclause in faults:
            near, dist = None, window + 1
            # the fault's own clause; a clause naming nothing continues the one before it
            # ("电梯晃得厉害 还有异响")
            if not any(o[3] == fclause for o in objects):
                fclause -= 1
            for pos, term, role, oclause in objects:
                if oclause != fclause:
                    continue
                d = abs(fpos - pos)
                # a place needs a leak ("楼上漏水了", not "楼上坏了"); ties go to the facility
                if d < dist or (d == dist and near is not None and near[2] & 32):
                    if role == 2 and not frole & 8:
                        continue
                    near, dist = (pos, term, role), d
            if near is None:
                continue
            if near[2] & 32:
                personal = True
                continue
            positive = sum(h.weight for h in cues["petition"] if h.weight > 0)
            bonus = round(max(0.0, self.ff_floor - positive), 3)
            if bonus:
                scores["petition"] += bonus
                cues["petition"].append(_Hit("#设施故障", bonus))
            cat = self.ff_objects[near[1]]
            cats["petition"][cat] = cats["petition"].get(cat, 0.0) + bonus + self.ff_category_weight
            return
        if personal:
            self._not_a_repair(scores, cues, "-#个人物品")

    def _not_a_repair(self, scores: dict[str, float], cues: dict[str, list[_Hit]], name: str) -> None:
        scores["petition"] -= self.ff_personal_weight
        cues["petition"].append(_Hit(name, -self.ff_personal_weight))

    def _apply_patterns(
        self,
        text: str,
        scores: dict[str, float],
        cats: dict[str, dict[str, float]],
        cues: dict[str, list[_Hit]],
        urgent_hits: list[_Urgent],
    ) -> bool:
        """Structural cues; returns whether the message is worded as a follow-up."""
        compact = text.replace(" ", "").replace("\u3000", "")
        followup, cancels = False, []
        for name, weights in self.patterns.items():
            if not weights and not urgent_hits and self.pattern_urgent.get(name) == "none":
                continue  # nothing to cancel (a cancelling pattern comes after the danger ones)
            match = _PATTERNS[name].search(compact)
            if not match and name in self.followup_patterns:  # "我家也没有 孙子澡都洗不了": where a clause ends
                match = _PATTERNS[name].search(text)
            if not match:
                continue
            followup = followup or name in self.followup_patterns
            category = self.pattern_category.get(name)
            for lab, w in weights.items():
                scores[lab] += w
                cues[lab].append(_Hit("#" + name, w))
                if category is not None and w > 0:
                    cats[lab][category] = cats[lab].get(category, 0.0) + w
            if name in self.pattern_cancel:
                cancels.append((self.pattern_cancel[name], match))
            if name in self.pattern_urgent:
                cat = self.pattern_urgent[name]
                if cat == "none":  # cancels the flag, not the weight
                    urgent_hits.append(_Urgent("#" + name, "-", False))
                else:
                    urgent_hits.append(_Urgent("#" + name, cat, True, self.danger_kind.get("#" + name)))
        for what, match in cancels:
            urgent_hits[:] = [u for u in urgent_hits if not _cancelled(u, what, match)]
        return followup

    def _apply_danger(
        self,
        urgent_hits: list[_Urgent],
        scores: dict[str, float],
        cats: dict[str, dict[str, float]],
        cues: dict[str, list[_Hit]],
    ) -> str | None:
        """Danger to life or property: one fixed bonus, whatever the number of words; returns
        the label that got it.

        The bonus goes to petition (someone must come), or to the label of the danger's kind
        (a fraud under way: legal)."""
        dangers = [u for u in urgent_hits if u.danger]
        if not dangers:
            return None
        danger = min(dangers, key=self._rank)
        term, cat = danger.term, danger.category
        label = self.danger_label.get(danger.kind or "", "petition")
        scores[label] += self.urgent_weight
        cues[label].append(_Hit(term, self.urgent_weight))
        # the danger names the category (a gas smell in the kitchen is a fire hazard, a burst
        # pipe a repair), unless the topic words weigh more; a fraud under way is a fraud whatever
        # story it told ("快递丢了要给我双倍理赔" is no traffic case)
        floor = max(cats[label].values(), default=0.0) if label != "petition" else 0.0
        cats[label][cat] = max(cats[label].get(cat, 0.0), floor) + self.urgent_category_weight
        return label

    def _rank(self, hit: _Urgent) -> float:
        return self.term_rank.get(hit.term) or self.kind_rank.get(hit.kind or "", len(self.kind_rank))

    def _decide(
        self,
        scores: dict[str, float],
        cats: dict[str, dict[str, float]],
        cues: dict[str, list[_Hit]],
        urgent_hits: list[_Urgent],
        followup: bool = False,
    ) -> Route:
        best = max(LABELS, key=lambda lab: scores[lab])
        score = round(scores[best], 3)
        keywords = _keywords(cues[best])
        if scores[best] < self.thresholds[best] or not self._enough_cues(cues[best]):
            return Route("other", None, False, score, keywords, followup=followup)
        category = self._category(best, cats[best])
        if best not in ("petition", "legal") or any(u.category == "-" for u in urgent_hits):
            flags = []
        elif best == "petition":
            flags = urgent_hits
        else:
            flags = [u for u in urgent_hits if u.category in self.urgent_legal]
        urgent = bool(flags)
        danger = None
        if urgent:
            keywords = tuple(dict.fromkeys("!" + u.term.lstrip("#") for u in flags)) + keywords
            danger = min(flags, key=self._rank).kind
        return Route(best, category, urgent, score, keywords, danger, followup)

    def objects(self, text: str) -> frozenset[str]:
        """What a report is about: the objects its words name (lexicon `objects`).

        A word that only qualifies the next one ("通下水道的小广告": the flyer, not the drain;
        "电梯的灯") is left out, so two reports never share an object by a shared word alone; a
        symptom ("~漏水") counts only when no thing is named ("水箱在漏水" is about the 水箱).

        Kept per text: a petition compares itself with every open ticket of its group, and each
        ticket's text was segmented again for each new report (~30 jieba cuts a petition)."""
        return self._objects_and_symptoms(text)[0]

    def symptoms(self, text: str) -> frozenset[str]:
        """The symptoms ("~漏水") a text names, kept even where a thing is named with them."""
        return self._objects_and_symptoms(text)[1]

    def _objects_and_symptoms(self, text: str) -> tuple[frozenset[str], frozenset[str]]:
        memo = self._objects_memo
        found = memo.get(text)
        if found is None:
            if len(memo) >= OBJECTS_MEMO_SIZE:
                memo.clear()  # a district's open tickets fit many times over; start again when full
            found = memo[text] = self._objects(text)
        return found

    def _objects(self, text: str) -> tuple[frozenset[str], frozenset[str]]:
        tokens = segment.cut(self.corrected((text or "")[: self.max_chars]))
        found = self._scan(tokens, self.object_of, self.object_prefixes)
        kept = []
        adverts = any(self.object_of[term] == ADVERTS for term, _ in found)
        for k, (term, pos) in enumerate(found):
            nxt = found[k + 1][1] if k + 1 < len(found) else None
            modified = found[k + 1][0] if nxt is not None else ""
            if (
                nxt is not None and nxt > pos and not self.object_of[modified].startswith(("*", "~"))
                and modified not in PILED_UP and "".join(tokens[pos:nxt]) in (term, term + "的")
            ):
                continue  # a modifier of the next specific object ("通下水道的小广告")
            if adverts and pos > 0 and tokens[pos - 1] in SERVICE_VERBS:
                continue  # a service the flyers offer ("小广告 通下水道的 开锁的"): not the drain
            if pos > 0 and tokens[pos - 1] in (BUYING | NEGATING):
                continue  # nor a thing said not to be it ("不是煤气 … 是一楼那个下水道堵了")
            kept.append(self.object_of[term])
        for name, pattern, instead_of in self.object_patterns:
            if pattern.search(text):
                kept = [o for o in kept if o not in instead_of] + [name]
        symptoms = frozenset(o for o in kept if o[0] == "~")
        # a symptom ("~漏水") belongs to the thing named with it ("水箱在漏水": the tank)
        if any(o[0] not in "*~" for o in kept):
            kept = [o for o in kept if o[0] != "~"]
        return frozenset(kept), symptoms

    def _enough_cues(self, hits: list[_Hit]) -> bool:
        """One word is never a case: need two positive words, or one very strong one.

        Weak patterns (#问句, #日期时间…) and the staff prior only add weight; they do not count
        as words, so "他们俩离婚了?" (one topic word + a question mark) stays chit-chat. Strong
        patterns (a place code, a letter to an official, a notice title) do count.
        """
        positive = [h.weight for h in hits if h.weight > 0 and (h.term[0] != "#" or h.weight >= 2.0)]
        return len(positive) >= 2 or (bool(positive) and max(positive) >= self.single_cue_min)

    def fallback_category(self, label: str) -> str:
        """The category of a ``label`` text that no topic word placed ("建议" for a petition)."""
        return self.defaults.get(label) or self.category_order[label][0]

    def _category(self, label: str, cat_scores: dict[str, float]) -> str:
        positive = {c: s for c, s in cat_scores.items() if s > 0}
        if not positive:
            return self.fallback_category(label)
        order = self.category_order[label]
        return max(positive, key=lambda c: (positive[c], -order.index(c)))


LONG_CHAT = 60  # characters: a long message is a chat with a report inside, or not


def _soften_chatter(scores: dict[str, float], cues: dict[str, list["_Hit"]]) -> None:
    """A long chatty message ("各位邻居早上好啊…对了跟你们说个事 楼上602漏水漏到我家厨房…我孙子下礼拜要回来了
    开心") has many chatter words, each saying less: beyond the strongest, they count half."""
    for label, hits in cues.items():
        negatives = sorted(h.weight for h in hits if h.term.startswith("-") and h.weight < 0)
        if len(negatives) > 1:
            scores[label] -= sum(negatives[1:]) / 2


def _cancelled(hit: _Urgent, what: str, match: re.Match[str]) -> bool:
    """Whether a cancelling pattern removes this danger (see Router._apply_patterns)."""
    if what == "all":
        return True
    if what == "near":  # only the words the near miss names ("差点摔了": 摔了)
        return hit.term[0] != "#" and hit.term in match.group(0)
    return hit.kind == what


def _keywords(hits: list[_Hit], limit: int = 12) -> tuple[str, ...]:
    """Strongest cues first; negatives keep their '-' prefix."""
    ranked = sorted(hits, key=lambda h: -abs(h.weight))
    return tuple(dict.fromkeys(h.term for h in ranked))[:limit]


_default: Router | None = None
_default_lock = threading.Lock()


def pattern(name: str) -> re.Pattern[str]:
    """One of the router's structural cues, for a handler asking the same question of a text
    (e.g. "失物": lost and found is no question about a notice)."""
    return _PATTERNS[name]


def default_router() -> Router:
    """Process-wide router (lexicon and jieba loaded once)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Router()
    return _default
