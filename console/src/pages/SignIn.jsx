// 登录: a password, or a one-time code (首次登录) with the new password it sets.
import { useState } from "react";
import { ApiError, post, sessionStarted } from "../api.js";

export function SignIn({ onSignedIn }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [withCode, setWithCode] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = withCode ? { user, code, new_password: password } : { user, password };
      const s = await post("/v1/session", body);
      sessionStarted(s);
      onSignedIn(s.user);
    } catch (err) {
      setError(err instanceof ApiError ? err.zh : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="sign-in">
      <h1>申报系统</h1>
      <form onSubmit={submit} aria-label="登录">
        <label>
          用户名
          <input name="user" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} required />
        </label>
        {withCode && (
          <label>
            一次性登录码
            <input name="code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required />
          </label>
        )}
        <label>
          {withCode ? "设置新密码（至少 12 个字符）" : "密码"}
          <input
            name="password"
            type="password"
            autoComplete={withCode ? "new-password" : "current-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p role="alert" className="problem">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {withCode ? "设置密码并登录" : "登录"}
        </button>
        <button type="button" className="link" onClick={() => setWithCode(!withCode)}>
          {withCode ? "用密码登录" : "首次登录（使用一次性登录码）"}
        </button>
      </form>
    </main>
  );
}
