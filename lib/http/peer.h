// peer.h — whether the client of the request being handled is still there,
// for handlers that wait long (a proxied tool call) and should stop working
// for a client that gave up and closed its connection.
#pragma once

#include <functional>

namespace fracta::http {

// Called from inside a Server's handler: a check that says whether that
// request's client has closed its end of the connection (a read would see
// end of file, or the connection broke). Use it only while the handler runs,
// or from the StreamNext of the response the handler returned (both run
// while the connection exists). Empty outside a handler.
std::function<bool()> peer_watch();

}  // namespace fracta::http
