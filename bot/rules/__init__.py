"""The program's rules as pure functions over plain data; they import only each other and bot.text."""
