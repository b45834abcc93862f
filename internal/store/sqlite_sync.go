package store

// sqliteSynchronous is the synchronous pragma of every SQLite database.
// FULL syncs the WAL at each commit, so an acknowledged commit survives a
// power cut (https://www.sqlite.org/pragma.html#pragma_synchronous: in WAL
// mode NORMAL may roll back the last commits after a power loss). Only a
// binary built with the corridor_powerloss tag can change it (the power-loss
// test, to show that it catches a weaker setting).
var sqliteSynchronous = "synchronous(FULL)"

// EnvPowerLossSynchronous, honoured only in a binary built with the
// corridor_powerloss tag, replaces SQLite's synchronous setting (OFF,
// NORMAL, FULL or EXTRA) so the power-loss test can show it fails with OFF.
const EnvPowerLossSynchronous = "CORRIDOR_POWERLOSS_SQLITE_SYNCHRONOUS"
