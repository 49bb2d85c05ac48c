"""The legal-affairs cloud (法务云): the law library.

A Law is one text as shipped in data/laws (loaded by `manage.py load_laws`), cut into divisions
(编/章/节) and articles (条); an article keeps its paragraphs (款) and items (项) as a list, so the
text prints exactly as published. Each article also carries a plain-language summary and the
words workers use for it (data/legal/summaries), its text cut into words by jieba for search
(`search_text`, `search_head`: words separated by spaces), and the articles it cites.

On PostgreSQL the migration adds a generated `search_vector` column (the two segmented texts,
weighted A and B) with a GIN index; Django does not see it, the search selector queries it.
"""

from __future__ import annotations

from django.db import models


class LawKind(models.TextChoices):
    LAW = "law", "法律"
    REGULATION = "regulation", "行政法规"
    RULE = "rule", "部门规章"


class Law(models.Model):
    slug = models.SlugField(max_length=80, unique=True, allow_unicode=False)
    title = models.CharField("名称", max_length=120, unique=True)
    short_title = models.CharField("简称", max_length=60, unique=True)
    kind = models.CharField("效力级别", max_length=20, choices=LawKind.choices, default=LawKind.LAW)
    revised = models.DateField("文本版本日期", null=True, blank=True)
    history = models.JSONField("制定和修改经过", default=list, blank=True)
    appendix = models.TextField("附件", blank=True)
    source_file = models.CharField(max_length=200)
    source_sha256 = models.CharField(max_length=64)
    article_count = models.PositiveIntegerField(default=0)
    sort = models.IntegerField(default=100)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = "法律法规"
        verbose_name_plural = "法律法规"

    def __str__(self) -> str:
        return self.title


class LawDivision(models.Model):
    """编, 章 or 节, in order; a 节 names its 章 as parent."""

    law = models.ForeignKey(Law, on_delete=models.CASCADE, related_name="divisions")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    level = models.CharField(max_length=10)  # part | chapter | section
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=20)  # 第一章
    title = models.CharField(max_length=120, blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["law", "order"]
        constraints = [models.UniqueConstraint(fields=["law", "order"], name="legal_division_order")]

    def __str__(self) -> str:
        return f"{self.label} {self.title}".strip()


class Article(models.Model):
    law = models.ForeignKey(Law, on_delete=models.CASCADE, related_name="articles")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=20)  # 第八十二条
    division = models.ForeignKey(LawDivision, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    # [{"text": "...", "items": [{"label": "（一）", "text": "..."}]}]: 款 and 项 as published.
    paragraphs = models.JSONField(default=list)
    text = models.TextField()  # the paragraphs and items on their own lines, without the label
    summary = models.CharField("白话要点", max_length=200, blank=True)
    keywords = models.CharField("常用说法", max_length=400, blank=True)
    search_text = models.TextField(blank=True)  # the text, segmented
    search_head = models.TextField(blank=True)  # law short title, division, summary, keywords, segmented

    class Meta:
        ordering = ["law", "number"]
        constraints = [models.UniqueConstraint(fields=["law", "number"], name="legal_article_number")]

    def __str__(self) -> str:
        return f"{self.law.short_title}{self.label}"


class ArticleReference(models.Model):
    """One article citing another ("依照本法第三十九条", "依照劳动合同法第八十二条"); `start`/`end`
    is the span of 第X条 in the citing article's `text`, which the article page turns into a link."""

    source = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="references")
    target = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="cited_by")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()

    class Meta:
        ordering = ["source", "start"]
        constraints = [models.UniqueConstraint(fields=["source", "start"], name="legal_reference_span")]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"
