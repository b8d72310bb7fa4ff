// Entry point of the plugin binary; the protocol host is wired in by the provider plugin work.
return 0;
