module goscope/bench/httpserver

go 1.19
