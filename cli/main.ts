// Placeholder: the CLI lands here (cli/).
console.log('orchestrator');
