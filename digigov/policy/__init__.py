"""Policy library (政策文件库): documents, clause trees, Chinese search and cited Q&A (智能化政策问答).

Reading and parsing (`reading`, `furniture`, `metadata`, `clauses`, `citations`) are pure
functions over text; `index` keeps the search index in the data home; `service` ties them to
the metadata store.
"""
