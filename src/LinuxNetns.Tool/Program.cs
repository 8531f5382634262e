using Netns;

// netns: `ip netns` on top of the LinuxNetns library. Same commands, stdout and exit codes as iproute2.
// Synchronous: a short command pays for no async state machines or task caches at start-up (only monitor awaits).
LinkedLibc.Offer();
return NetnsCli.Run(args);
