"""Steps that several conversations share and that know none of them.

The card every flow ends on, the password step, waiting for a code, the workspaces question, the
step numbers of a binding's plan, repeated trouble leading to support, and the table by which a
step hands back to the conversation that asked for it (`Returns`, filled in `bot.routers`).
"""
