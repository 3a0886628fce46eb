"""Generic lexical knowledge about Japanese names: titles, honorifics and type-revealing suffixes.

These are closed-class words any Japanese reader knows (大統領, 氏, 党, 大学, 県 ...), written
by hand; no entity names. They generalise the learned model to suffixes it saw rarely, and the
title list drives alias resolution (プーチン大統領 -> プーチン).
"""

from __future__ import annotations


def _words(block: str) -> list[str]:
    """Whitespace-separated words of a block (keeps the long lists readable)."""
    return block.split()


# Words that follow a person's name: titles, ranks, roles, honorifics.
TITLES: frozenset[str] = frozenset(
    _words(
        """
    氏 さん 君 くん ちゃん 様 さま 殿 先生 選手 監督 投手 捕手
    外野手 内野手 騎手 棋士 力士 容疑者 被告 被告人 大統領 副大統領
    首相 副首相 総理 総理大臣 大臣 外相 蔵相 財務相 国防相 防衛相 法相
    文相 厚相 農相 経産相 内相 官房長官 長官 次官 総書記 書記長
    第一書記 書記 国家主席 主席 首席 委員長 副委員長 議長 副議長 党首
    代表 幹事長 総裁 副総裁 総統 国王 女王 王 王子 王女 皇帝 皇太子
    天皇 法王 教皇 陛下 殿下 卿 公 侯 伯爵 将軍 元帥 大将 中将 少将
    司令官 報道官 大使 公使 領事 知事 市長 区長 町長 村長 議員
    上院議員 下院議員 市議 県議 社長 副社長 会長 副会長 頭取 理事長
    理事 専務 常務 取締役 CEO 最高経営責任者 教授 准教授 助教授 講師
    博士 医師 弁護士 記者 編集長 作家 氏ら 夫人 夫妻 兄 弟 姉 妹 父
    母 師 師匠
    """
    )
)

# Titles that follow only a person's name (not a body's: 社長, 会長, 代表 follow companies too).
PERSON_TITLES: frozenset[str] = frozenset(
    _words(
        """
    氏 さん 首相 副首相 大統領 副大統領 総統 国王 女王 皇太子 長官 国務長官 外相 国防相 財務相
    首席 主席 国家主席 総書記 書記長 報道官 容疑者 被告 夫人 大使 議長 上院議員 下院議員
    """
    )
)

# Last words of organisation names.
ORG_SUFFIXES: frozenset[str] = frozenset(
    _words(
        """
    党 大学 大学院 学院 学園 学校 高校 高等学校 中学校 小学校 短期大学
    カレッジ 省 庁 局 府 院 銀行 委員会 社 会社 株式会社 有限会社
    協会 連盟 連合 同盟 機構 機関 財団 法人 研究所 研究会 軍 隊 団
    会 組合 新聞 新聞社 放送 通信 通信社 航空 鉄道 電鉄 電力 電気
    工業 製作所 商事 物産 証券 保険 生命 製薬 議会 政府 裁判所 警察
    署 ホールディングス グループ カンパニー コーポレーション 事務所
    レコード レーベル スタジオ 出版 出版社 書店 商会 クラブ 球団 楽団
    劇団 教団 部 課 政権 評議会 センター
    """
    )
)

# Words that head an organisation's name wherever they stand in it (a name of common nouns that
# holds none of them is no organisation: rules.common_words_are_not_names).
NAME_HEADS: frozenset[str] = ORG_SUFFIXES | frozenset(
    _words(
        """
    基金 公社 公団 公庫 事業団 取引所 銀行 本部 事務局 理事会 審議会 機構 連合会 協議会 組合
    企業 商店 工房 製作所 公司 集団 財閥 研究機構 共同体 共和国 王国 法廷 裁判所 議会 司令部
    会議 陸軍 海軍 空軍 師団 連隊 部隊 艦隊 テレビ ラジオ リーグ 球団 楽団 劇団
    """
    )
)

# Last words of place and facility names.
LOC_SUFFIXES: frozenset[str] = frozenset(
    _words(
        """
    国 共和国 王国 連邦 帝国 県 都 道 市 区 町 村 郡 州 省 島
    諸島 列島 半島 大陸 山 岳 山脈 川 河 湖 海 湾 海峡 岬 峠 高原
    平野 盆地 砂漠 地方 地域 街 通り 駅 空港 港 城 寺 神社 神宮
    公園 橋 線 道路 国道 トンネル ダム タワー ホール 劇場 スタジアム
    球場 競技場 病院 美術館 博物館 図書館 ビル 宮殿 宮 会館
    """
    )
)

# Compass words forming a region name with the place name after them (北東アジア).
DIRECTIONS: frozenset[str] = frozenset(
    _words("北 南 東 西 北東 北西 南東 南西 東南 西南 東北 西北 中央")
)

# Kinds of lexicon membership that become model features.
LEX_CLASSES: tuple[tuple[str, frozenset[str]], ...] = (
    ("T", TITLES),
    ("O", ORG_SUFFIXES),
    ("L", LOC_SUFFIXES),
)

# --- country abbreviations in compounds (workers.extract.compounds) --------------------------

# Kanji that stand before a one-kanji country abbreviation in one word (訪米, 来日, 対中, 駐日),
# with their readings: the word counts when Sudachi reads it prefix + country (ホウ + ベイ).
COUNTRY_PREFIXES: dict[str, tuple[str, ...]] = {
    "訪": ("ホウ",),
    "来": ("ライ",),
    "対": ("タイ",),
    "駐": ("チュウ",),
    "在": ("ザイ",),
    "反": ("ハン",),
    "親": ("シン",),
    "全": ("ゼン",),
    "離": ("リ",),
    "渡": ("ト",),
    "滞": ("タイ",),
    "知": ("チ",),
    "嫌": ("ケン",),
    "排": ("ハイ",),
    "抗": ("コウ",),
    "帰": ("キ",),
}

# Words after a lone country abbreviation that show it is the country (豪政府, 英首相, 米国務省,
# ブリンケン米国務長官): the state, its offices, officials, forces, press and economy.
STATE_WORDS: frozenset[str] = frozenset(
    _words(
        """
    政府 政権 当局 当局者 高官 議会 上院 下院 国会 与党 野党 大統領 副大統領 首相 副首相
    国務 国務省 国務長官 外務省 外相 外務 国防 国防総省 国防省 国防相 国防長官 財務省 財務相
    財務長官 商務省 商務長官 司法省 内務省 国土安全保障省 運輸省 エネルギー省 通商代表部
    大使 大使館 総領事館 領事館 総領事 軍 海軍 空軍 陸軍 兵 軍部 中央銀行 中銀 連邦 紙 誌
    メディア 企業 大手 株 国債 市場 経済 首脳 元首 王室 国王 女王 首席 主席 国家主席 外交
    国内 全土 代表 政府系
    """
    )
)

# Words after a two-country compound that show it is the countries (日中関係, 日比の防衛協力):
# needed only where the compound also reads as a common word (日中 is also "daytime").
RELATION_WORDS: frozenset[str] = frozenset(
    _words(
        """
    関係 首脳 会談 首脳会談 外相 外相会談 両国 両政府 間 同盟 協力 対立 摩擦 貿易 交渉 協議
    合意 共同 合同 友好 国交 条約 協定 戦争 演習 連携 経済 外交 防衛 安保 安全保障 対話 通商
    国境 首脳会議 外交関係 関税 連合 枠組み 3カ国 3か国 三カ国 2国間 二国間
    """
    )
)

# Words after a two-country compound that make it the name of a past event (日露戦争, 日中戦争):
# no mention of the countries today.
EVENT_WORDS: frozenset[str] = frozenset(_words("戦争 事変 戦役 紛争"))

# Words after a country (or its abbreviation) that make a name of the government, not a new
# organisation: カナダ政府 is a mention of カナダ.
GOVERNMENT_WORDS: frozenset[str] = frozenset(_words("政府 当局 政権"))
