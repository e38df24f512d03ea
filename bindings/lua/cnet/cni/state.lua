-- cnet.cni.state: what the plugin remembers about one network, between its processes.
--
-- One directory per network, DATADIR/NETWORK/ (DATADIR: the configuration's "dataDir", else
-- /var/lib/cni/cnet), holding:
--   lock        flock'ed for the whole of every ADD, DEL, CHECK and GC, so parallel calls on
--               one network take turns (different networks never wait for each other);
--   state.json  the attachments and the built-in allocator's leases, replaced atomically
--               (written to a temporary file, then renamed over the old one).
-- The document:
--   {version = 1,
--    attachments = {["CID/IFNAME"] = {id=, ifname=, netns=, boot=, host = "vethXXXXXXXX",
--                                     ips = {"10.88.0.5/16"}, masq=, ports=, ...}},
--    leases = {["10.88.0.5"] = "CID/IFNAME"},   -- the built-in allocator's
--    next = {["10.88.0.0/16"] = "10.88.0.6"},    -- where its next search starts, per range
--    nft = {made =, gen =},                      -- whether its nft table exists; how many
--                                                 -- times it was rebuilt whole
--    bridge_made =, bridge = {name =, mac =}}     -- the bridge it made, and what it knows of it
local cnet = require "cnet"
local json = require "cnet.cni.json"

local M = {}

M.default_dir = "/var/lib/cni/cnet"

local State = {}
State.__index = State

-- The id of this boot: attachments recorded under another boot are gone with it (every
-- namespace and veth dies at reboot), so their leases may be reclaimed at any time.
local boot_id
function M.boot_id()
  if boot_id == nil then
    local f = io.open("/proc/sys/kernel/random/boot_id")
    boot_id = f and f:read("l") or "unknown"
    if f then f:close() end
  end
  return boot_id
end

-- The key of an attachment: the spec's (container id, interface) pair.
function M.key(id, ifname) return id .. "/" .. ifname end

-- The document of file `path`, with every part present; raises when it is unreadable.
local function load(path)
  local f = io.open(path)
  local data
  if f then
    local text = f:read("a")
    f:close()
    local err
    data, err = json.decode(text)
    if type(data) ~= "table" then
      error(("state %s: unreadable (%s); move it away to start the network afresh")
        :format(path, err or "not an object"), 0)
    end
  end
  data = data or {}
  data.version = data.version or 1
  data.attachments = data.attachments or {}
  data.leases = data.leases or {}
  data.next = data.next or {}
  data.nft = data.nft or {}
  return data
end

-- Opens the network's state under its lock (waiting for other holders). `dir` is the
-- data directory, `network` the validated network name. Returns a State; :close() (or a
-- <close> variable) releases the lock without saving.
function M.open(dir, network, opts)
  local path = (dir or M.default_dir) .. "/" .. network
  local lock = cnet.lock(path .. "/lock", opts and opts.timeout and {timeout = opts.timeout})
  local st = setmetatable({dir = path, file = path .. "/state.json", lock = lock}, State)
  local ok, data = pcall(load, st.file)
  if not ok then
    lock:close()
    error(data, 0)
  end
  st.data = data
  return st
end

-- The document as it is now, without the lock: since it is only ever replaced whole (a
-- rename), this is always one consistent version, if possibly not the latest by the time
-- the caller acts on it.
function M.snapshot(dir, network)
  return load((dir or M.default_dir) .. "/" .. network .. "/state.json")
end

-- Writes the document (atomically: a crash leaves the old or the new one, never half).
function State:save()
  local tmp = self.file .. ".tmp"
  local f = assert(io.open(tmp, "w"))
  f:write(json.encode(self.data))
  assert(f:close())
  assert(os.rename(tmp, self.file))
end

function State:close()
  if self.lock then
    self.lock:close()
    self.lock = nil
  end
end
State.__close = State.close

function State:attachment(id, ifname) return self.data.attachments[M.key(id, ifname)] end

return M
