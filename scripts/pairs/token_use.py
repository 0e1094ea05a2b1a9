PAIRS = {
    "operator.jobs.about.token_last_used": (
        "记录 API 令牌的最近使用时间：把各 API 进程记在 Redis 中的使用时间写入数据库",
        "Record when each API token was last used: move the uses the API workers noted in Redis into the database",
    ),
}
