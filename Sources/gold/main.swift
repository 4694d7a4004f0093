import GoldCLI

await GoldMain.run()
