{{ news_articles('rg') }}
