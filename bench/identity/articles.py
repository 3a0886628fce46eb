"""A check set for entity identity, written for newsflow (not from ../shared/data): short news
articles whose mentions name the entity they refer to, in the format of identity-dev, so the
official scorer runs on it:

    python bench/identity/articles.py > /tmp/check.json
    python3 ../shared/tools/identity_eval.py /tmp/check.json "newsflow extract"

Its entities are other than identity-dev's: it measures how the methods carry over to names the
development set never showed. Offsets are computed as identity-dev's build does: a mention is
found at its first occurrence at or after the previous mention's end.
"""

# ruff: noqa: E501  (one article per line: the data reads best unwrapped)
# fmt: off
from __future__ import annotations

import json
import sys

ITEMS = [
    ("アメリカのバイデン大統領は3日、ホワイトハウスで演説した。", [("アメリカ", "US"), ("バイデン", "BIDEN"), ("ホワイトハウス", "WH")]),
    ("米国務省は、日米韓の外相会談を東京で開くと4日に発表した。", [("米", "US"), ("日", "JP"), ("米", "US"), ("韓", "KR"), ("東京", "TOKYO")]),
    ("米中関係の悪化を受け、アメリカ合衆国の議会は対中制裁を可決した。", [("米", "US"), ("中", "CN"), ("アメリカ合衆国", "US"), ("中", "CN")]),
    ("岸田文雄首相は5日、訪米に向けて羽田空港を出発した。", [("岸田文雄", "KISHIDA"), ("米", "US"), ("羽田空港", "HANEDA")]),
    ("岸田首相はワシントンで記者団に対し、米国との同盟を強化すると述べた。", [("岸田", "KISHIDA"), ("ワシントン", "WASHINGTON"), ("米国", "US")]),
    ("日本銀行は6日の金融政策決定会合で、政策金利を据え置いた。", [("日本銀行", "BOJ")]),
    ("日銀の植田和男総裁は会見で、物価の先行きについて説明した。", [("日銀", "BOJ"), ("植田和男", "UEDA")]),
    ("植田総裁は同日、円安の影響を注視すると語った。", [("植田", "UEDA")]),
    ("トヨタ自動車は7日、北米での新工場の建設を発表した。", [("トヨタ自動車", "TOYOTA"), ("北米", "NAMERICA")]),
    ("トヨタの社長は記者会見で、電気自動車の販売目標を示した。", [("トヨタ", "TOYOTA")]),
    ("ソフトバンクグループは8日、人工知能への投資を拡大すると発表した。", [("ソフトバンクグループ", "SBG")]),
    ("孫正義社長は9日、ソフトバンクグループの株主総会で講演した。", [("孫正義", "SON"), ("ソフトバンクグループ", "SBG")]),
    ("東京電力ホールディングスは10日、福島第1原発の処理水の放出を再開した。東電によると、作業は順調だという。", [("東京電力ホールディングス", "TEPCO"), ("福島第1原発", "F1"), ("東電", "TEPCO")]),
    ("東電の担当者は11日、放出量の見通しを示した。", [("東電", "TEPCO")]),
    ("国際連合の安全保障理事会は12日、緊急会合を開いた。国連の事務総長も出席した。", [("国際連合", "UN"), ("国連", "UN")]),
    ("北大西洋条約機構（NATO）は13日、ブリュッセルで首脳会議を開いた。", [("北大西洋条約機構", "NATO"), ("NATO", "NATO"), ("ブリュッセル", "BRUSSELS")]),
    ("NATOの事務総長は、ウクライナへの支援を続けると強調した。", [("NATO", "NATO"), ("ウクライナ", "UA")]),
    ("国際通貨基金（IMF）は14日、世界経済の見通しを上方修正した。", [("国際通貨基金", "IMF"), ("IMF", "IMF")]),
    ("IMFの専務理事は、インフレへの警戒を呼びかけた。", [("IMF", "IMF")]),
    ("ロシアのウラジーミル・プーチン大統領は15日、モスクワで演説した。", [("ロシア", "RU"), ("ウラジーミル・プーチン", "PUTIN"), ("モスクワ", "MOSCOW")]),
    ("プーチン氏は16日、露朝の軍事協力を深めると表明した。", [("プーチン", "PUTIN"), ("露", "RU"), ("朝", "KP")]),
    ("北朝鮮の朝鮮中央通信は17日、ミサイル発射を報じた。", [("北朝鮮", "KP"), ("朝鮮中央通信", "KCNA")]),
    ("自由民主党は18日、党本部で総務会を開いた。自民党の幹事長が記者会見した。", [("自由民主党", "LDP"), ("自民党", "LDP")]),
    ("自民の派閥の政治資金問題で、野党は追及を強めた。", [("自民", "LDP")]),
    ("立憲民主党の野田佳彦代表は19日、内閣不信任案の提出を検討すると述べた。", [("立憲民主党", "CDP"), ("野田佳彦", "NODA")]),
    ("立民の幹部は20日、野田代表と会談した。", [("立民", "CDP"), ("野田", "NODA")]),
    ("文部科学省は21日、教員の働き方改革の指針をまとめた。文科省の担当者が説明した。", [("文部科学省", "MEXT"), ("文科省", "MEXT")]),
    ("農林水産省は22日、コメの作況指数を発表した。農水省によると、米価は高止まりしている。", [("農林水産省", "MAFF"), ("農水省", "MAFF")]),
    ("英国のスターマー首相は23日、ロンドンで日英の首脳会談に臨んだ。", [("英国", "GB"), ("スターマー", "STARMER"), ("ロンドン", "LONDON"), ("日", "JP"), ("英", "GB")]),
    ("英政府は24日、独仏と共同で声明を出した。", [("英", "GB"), ("独", "DE"), ("仏", "FR")]),
    ("フランスのマクロン大統領は25日、パリで日仏の経済協力について語った。", [("フランス", "FR"), ("マクロン", "MACRON"), ("パリ", "PARIS"), ("日", "JP"), ("仏", "FR")]),
    ("ドイツ政府は26日、防衛費の増額を決めた。", [("ドイツ", "DE")]),
    ("韓国の尹錫悦大統領は27日、ソウルで日韓関係の改善を訴えた。", [("韓国", "KR"), ("尹錫悦", "YOON"), ("ソウル", "SEOUL"), ("日", "JP"), ("韓", "KR")]),
    ("中国の習近平国家主席は28日、北京で訪中した各国の首脳と会談した。", [("中国", "CN"), ("習近平", "XI"), ("北京", "BEIJING"), ("中", "CN")]),
    ("習氏は同日、中露の連携を確認した。", [("習", "XI"), ("中", "CN"), ("露", "RU")]),
    ("日本放送協会（NHK）は29日、新しい番組表を発表した。", [("日本放送協会", "NHK"), ("NHK", "NHK")]),
    ("NHKの会長は会見で、受信料の値下げを検討すると述べた。", [("NHK", "NHK")]),
    ("世界保健機関（WHO）は30日、新たな感染症への警戒を呼びかけた。", [("世界保健機関", "WHO"), ("WHO", "WHO")]),
    ("WHOの事務局長はジュネーブで記者会見した。", [("WHO", "WHO"), ("ジュネーブ", "GENEVA")]),
    ("ソニーグループは31日、半導体事業の分社化を発表した。ソニーの社長が説明した。", [("ソニーグループ", "SONY"), ("ソニー", "SONY")]),
    # other senses of the abbreviation kanji: no mention
    ("米の価格が上がり、米価の高騰が家計を圧迫している。", []),
    ("金の価格は最高値を更新した。会見中に記者が質問した。", []),
    ("豪雪の影響で、印刷工場や加工品の出荷が止まった。", []),
]


# fmt: on


def locate(text: str, mentions: list[tuple[str, str]]) -> list[dict[str, object]]:
    out, pos = [], 0
    for surface, cluster in mentions:
        at = text.index(surface, pos)
        out.append({"surface": surface, "span": [at, at + len(surface)], "cluster": cluster})
        pos = at + len(surface)
    return out


def build() -> list[dict[str, object]]:
    return [
        {"id": f"check-{n:03d}", "text": text, "mentions": locate(text, mentions)}
        for n, (text, mentions) in enumerate(ITEMS, 1)
    ]


if __name__ == "__main__":
    json.dump(build(), sys.stdout, ensure_ascii=False, indent=1)
