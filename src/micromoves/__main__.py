from micromoves.cli.main import app

app(prog_name="micromoves")
