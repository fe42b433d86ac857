from pipeline.cli.app import entry

entry()
