"""A real Scrapy crawl with the newsflow pipeline on, run as a child process by the tests:

    python -m tests.helpers.scrapy_crawl START_URL BROKER TOPIC [MAX_PENDING_BYTES]

The spider follows every link from START_URL and yields ``page_item(response)`` for each
``/news/`` page. The settings are what a Scrapy project adds (README). At the end it prints the
crawl's ``newsflow/*`` stats as one JSON line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import TextResponse

from workers.clients.scrapy import page_item


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, start: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response: Any) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return  # the PDF
        if "/news/" in response.url:
            yield page_item(response)
        yield from response.follow_all(css="a", callback=self.parse)


def main(argv: list[str]) -> int:
    start, broker, topic = argv[:3]
    settings = {
        "ITEM_PIPELINES": {"workers.clients.scrapy.NewsflowPipeline": 300},
        "NEWSFLOW_BROKER": broker,
        "NEWSFLOW_TOPIC": topic,
        "NEWSFLOW_MAX_PENDING_BYTES": int(argv[3]) if len(argv) > 3 else 32 << 20,
        "ROBOTSTXT_OBEY": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, start=start)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    print(json.dumps({k: v for k, v in stats.items() if k.startswith("newsflow/")}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
