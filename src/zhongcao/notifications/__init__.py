"""In-app notifications: one inbox per person, whatever their role (docs/notifications.md)."""
