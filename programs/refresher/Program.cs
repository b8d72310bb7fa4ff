// Entry point of the refresher; its commands are wired in by the refresher work.
return 0;
