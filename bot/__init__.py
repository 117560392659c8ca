"""refdesk: the program — settings, app factory, CLI, and the reference program's rules."""
