module goscope/bench/sysloop

go 1.19
