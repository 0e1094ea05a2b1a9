"""Shop memberships (会员): a shop's programme with tiers by spend, and the shoppers who joined."""
