"""`refdesk demo`: the program offline against a simulated Slack; imports anything but handlers."""
