"""newsflow: raw Japanese news pages -> clean, entity-tagged records, live on Kafka.

Flow (one folder per stage; stage logic is plain Python, the ``agent`` modules are Faust glue):

    articles.raw --clean--> articles.cleaned --extract--> articles.enriched
                                                         --count--> tables --web--> HTTP
"""

__version__ = "0.1.0"
PIPELINE_VERSION = f"newsflow/{__version__}"
