{{ news_articles('osw') }}
