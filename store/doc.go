// Package store keeps everything modauth knows in one bbolt file, and seals
// the secrets in it.
//
// Layout (values are JSON unless noted):
//
//	meta/schema                                  uint32, big-endian
//	meta/keycheck                                sealed constant, proves the key file fits
//	profiles/<id>/profile                        Profile
//	profiles/<id>/secret                         sealed client secret record
//	profiles/<id>/monitorsecret                  sealed secret record of the monitoring app
//	profiles/<id>/certificate                    sealed certificate record: certificate and private key
//	profiles/<id>/users/<key>                    User
//	profiles/<id>/tokens/<key>                   Token, with the refresh token sealed inside
//	profiles/<id>/jobs/<key>                     Job
//	profiles/<id>/items/<key>/<folder>/<itemID>  Item
//	events/<seq>                                 Event, 8-byte big-endian keys
//
// Secrets are sealed with AES-256-GCM under a key kept in its own file, so a
// copied or backed-up database is useless without that file. Each sealed value
// is bound to the place it is stored (see seal.go), so a refresh token moved to
// another user's record does not unseal.
//
// A DB is safe for concurrent use. Only one process can have the file open:
// a second one fails fast with ErrLocked instead of waiting for the lock.
//
// OpenEtcd keeps the same layout in etcd instead, for several monitors
// sharing tenants; kv.go is the seam between the operations and the engine,
// kv_etcd.go says how buckets and transactions map onto etcd.
package store
