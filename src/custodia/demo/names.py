"""Chinese personal and company names for demo data, with the pinyin needed for e-mail addresses."""

from __future__ import annotations

# Surnames with a relative weight roughly following their frequency in mainland China; compound
# surnames are over-represented a little so that a demo list of a few thousand people shows some.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.5), ("刘", "liu", 5.3), ("陈", "chen", 4.5),
    ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0), ("吴", "wu", 2.0), ("周", "zhou", 1.9),
    ("徐", "xu", 1.3), ("孙", "sun", 1.3), ("马", "ma", 1.2), ("朱", "zhu", 1.2), ("胡", "hu", 1.1),
    ("郭", "guo", 1.1), ("何", "he", 1.0), ("林", "lin", 1.0), ("高", "gao", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.7), ("唐", "tang", 0.7),
    ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.6), ("邓", "deng", 0.6), ("曹", "cao", 0.6),
    ("彭", "peng", 0.5), ("曾", "zeng", 0.5), ("肖", "xiao", 0.5), ("田", "tian", 0.5), ("董", "dong", 0.5),
    ("袁", "yuan", 0.4), ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4), ("苏", "su", 0.3),
    ("魏", "wei", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3), ("任", "ren", 0.3), ("沈", "shen", 0.3),
    ("姚", "yao", 0.3), ("卢", "lu", 0.3), ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3),
    ("谭", "tan", 0.3), ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.2), ("廖", "liao", 0.2), ("贾", "jia", 0.2), ("夏", "xia", 0.2), ("韦", "wei", 0.2),
    ("付", "fu", 0.2), ("方", "fang", 0.2), ("白", "bai", 0.2), ("邹", "zou", 0.2), ("孟", "meng", 0.2),
    ("熊", "xiong", 0.2), ("秦", "qin", 0.2), ("邱", "qiu", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2),
    ("薛", "xue", 0.2), ("闫", "yan", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2), ("侯", "hou", 0.2),
    ("龙", "long", 0.2), ("史", "shi", 0.2), ("陶", "tao", 0.1), ("黎", "li", 0.1), ("贺", "he", 0.1),
    ("顾", "gu", 0.1), ("毛", "mao", 0.1), ("郝", "hao", 0.1), ("龚", "gong", 0.1), ("邵", "shao", 0.1),
    ("万", "wan", 0.1), ("钱", "qian", 0.1), ("严", "yan", 0.1), ("覃", "qin", 0.1), ("武", "wu", 0.1),
    ("戴", "dai", 0.1), ("莫", "mo", 0.1), ("孔", "kong", 0.1), ("向", "xiang", 0.1), ("汤", "tang", 0.1),
    ("欧阳", "ouyang", 0.4), ("司马", "sima", 0.15), ("上官", "shangguan", 0.12), ("诸葛", "zhuge", 0.1),
    ("司徒", "situ", 0.12), ("皇甫", "huangfu", 0.06), ("夏侯", "xiahou", 0.05),
)


def _chars(spec: str) -> tuple[tuple[str, str], ...]:
    """Parse "伟:wei 强:qiang" into (character, pinyin) pairs."""
    return tuple((c, p) for c, p in (item.split(":") for item in spec.split()))


MALE_SINGLE = _chars(
    "伟:wei 强:qiang 磊:lei 军:jun 勇:yong 杰:jie 涛:tao 斌:bin 超:chao 明:ming 刚:gang 平:ping "
    "辉:hui 鹏:peng 华:hua 飞:fei 鑫:xin 波:bo 宇:yu 浩:hao 凯:kai 健:jian 帆:fan 旭:xu 亮:liang "
    "峰:feng 毅:yi 坤:kun 晨:chen 阳:yang 龙:long"
)
MALE_FIRST = _chars(
    "志:zhi 建:jian 国:guo 海:hai 东:dong 子:zi 天:tian 永:yong 德:de 振:zhen 宏:hong 立:li 世:shi "
    "家:jia 晓:xiao 俊:jun 文:wen 明:ming 鸿:hong 庆:qing 忠:zhong 宇:yu 浩:hao 嘉:jia 一:yi 博:bo "
    "泽:ze 成:cheng 金:jin 新:xin 春:chun 学:xue"
)
MALE_SECOND = _chars(
    "伟:wei 强:qiang 军:jun 华:hua 明:ming 平:ping 涛:tao 斌:bin 辉:hui 峰:feng 林:lin 杰:jie 轩:xuan "
    "睿:rui 然:ran 昊:hao 成:cheng 锋:feng 良:liang 诚:cheng 晖:hui 松:song 宇:yu 航:hang 豪:hao "
    "铭:ming 翔:xiang 东:dong 刚:gang 勇:yong 波:bo 新:xin"
)
FEMALE_SINGLE = _chars(
    "芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 玲:ling 燕:yan 萍:ping 红:hong 婷:ting "
    "雪:xue 琳:lin 倩:qian 颖:ying 慧:hui 欣:xin 怡:yi 梅:mei 莉:li 晶:jing 洁:jie 琴:qin 丹:dan "
    "蕾:lei 璐:lu 瑶:yao 悦:yue 薇:wei"
)
FEMALE_FIRST = _chars(
    "秀:xiu 桂:gui 丽:li 晓:xiao 雅:ya 思:si 佳:jia 欣:xin 梦:meng 诗:shi 雨:yu 婉:wan 淑:shu 春:chun "
    "海:hai 玉:yu 美:mei 紫:zi 若:ruo 心:xin 可:ke 文:wen 子:zi 慧:hui 亚:ya 小:xiao 丹:dan 静:jing"
)
FEMALE_SECOND = _chars(
    "英:ying 兰:lan 芳:fang 华:hua 珍:zhen 凤:feng 琴:qin 云:yun 霞:xia 燕:yan 婷:ting 琳:lin 颖:ying "
    "怡:yi 涵:han 萱:xuan 琪:qi 彤:tong 妍:yan 洁:jie 蓉:rong 敏:min 静:jing 莉:li 月:yue 馨:xin "
    "雯:wen 娟:juan 悦:yue 瑶:yao 丹:dan 红:hong 梅:mei 薇:wei"
)

# Company names: city + brand (two characters) + industry + legal form.
BRAND_CHARS = _chars(
    "瑞:rui 丰:feng 华:hua 腾:teng 恒:heng 信:xin 明:ming 德:de 鼎:ding 盛:sheng 嘉:jia 禾:he "
    "宏:hong 远:yuan 博:bo 雅:ya 凯:kai 达:da 安:an 正:zheng 新:xin 永:yong 泰:tai 金:jin 润:run "
    "和:he 隆:long 汇:hui 益:yi 康:kang 成:cheng 卓:zhuo 越:yue 智:zhi 创:chuang 星:xing 海:hai "
    "天:tian 东:dong 启:qi 弘:hong 辰:chen 立:li 优:you 科:ke 源:yuan 联:lian 鑫:xin 通:tong "
    "诚:cheng 晟:sheng 昌:chang 兴:xing 富:fu 祥:xiang 利:li 佳:jia 美:mei 宇:yu 众:zhong 合:he "
    "力:li 伟:wei 峰:feng 锦:jin 洲:zhou 坤:kun 元:yuan 铭:ming 拓:tuo 展:zhan"
)

# (industry words, slug for the e-mail domain, weight)
INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    ("精密机械", "jixie", 3), ("电子科技", "tech", 4), ("贸易", "trade", 4), ("新材料", "material", 2),
    ("生物医药", "pharma", 1.5), ("信息技术", "it", 3), ("物流", "logistics", 2), ("建筑工程", "build", 2),
    ("食品", "food", 2), ("纺织", "textile", 1.5), ("化工", "chem", 1.5), ("环保科技", "eco", 1.5),
    ("汽车零部件", "auto", 2), ("医疗器械", "medical", 1.5), ("供应链管理", "scm", 2), ("餐饮管理", "catering", 1),
    ("文化传媒", "media", 1.5), ("能源科技", "energy", 1.5), ("智能装备", "equip", 2), ("包装材料", "pack", 1),
    ("家居用品", "home", 1), ("服饰", "fashion", 1), ("电气设备", "electric", 2), ("软件", "soft", 2.5),
    ("实业", "industry", 2), ("投资管理", "invest", 1), ("光电科技", "opto", 1), ("半导体", "semi", 1),
)

# (legal form, weight)
COMPANY_FORMS: tuple[tuple[str, float], ...] = (
    ("有限公司", 75), ("股份有限公司", 15), ("集团有限公司", 5), ("有限责任公司", 5),
)

CONTACT_TITLES: tuple[tuple[str, float], ...] = (
    ("采购经理", 5), ("采购总监", 2), ("财务总监", 2), ("财务经理", 3), ("总经理", 2), ("副总经理", 1.5),
    ("IT经理", 2), ("信息部主管", 1.5), ("行政主管", 1.5), ("董事长助理", 1), ("运营总监", 1.5),
    ("技术总监", 1.5), ("法务专员", 1), ("项目经理", 2),
)
