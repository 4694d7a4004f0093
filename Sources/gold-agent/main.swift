import GoldAgentKit

await AgentMain.run()
