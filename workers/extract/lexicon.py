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
