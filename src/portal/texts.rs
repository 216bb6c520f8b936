//! Every text of the portal's pages, one table per language. The portal is a different site from
//! the provider (a provincial service), so it has its own texts and names.

use crate::web::page::Lang;

pub struct Texts {
    pub brand: &'static str,
    pub language: &'static str,
    /// The name of the other language, in that language.
    pub other_name: &'static str,
    pub home_title: &'static str,
    pub logged_out: &'static str,
    pub ended_by_provider: &'static str,
    pub intro: &'static str,
    pub login: &'static str,
    pub login_level2: &'static str,
    pub level2_note: &'static str,
    pub login_organisation: &'static str,
    pub login_officer_cert: &'static str,
    pub hello: &'static str,
    pub acr_heading: &'static str,
    pub claims_heading: &'static str,
    pub userinfo_failed: &'static str,
    pub id_token: &'static str,
    pub userinfo: &'static str,
    pub source: &'static str,
    pub claim: &'static str,
    pub value: &'static str,
    pub logout: &'static str,
    pub acr: AcrTexts,
    pub error_code: &'static str,
    pub description: &'static str,
    pub back_home: &'static str,
    /// The callback answers no login this browser started.
    pub stale: Problem,
    pub unavailable: Problem,
    /// The provider answered the login with an OAuth error.
    pub provider_error: Problem,
    /// The provider's answer failed validation.
    pub rejected: Problem,
}

/// What each `acr` value means for the citizen, in plain words.
pub struct AcrTexts {
    pub eid1: &'static str,
    pub eid2: &'static str,
    pub org: &'static str,
    pub officer_mfa: &'static str,
    pub officer_hwk: &'static str,
    pub officer_pwd: &'static str,
    pub officer_cert: &'static str,
    pub unknown: &'static str,
    pub none: &'static str,
}

/// A failed step: a title and what happened.
pub struct Problem {
    pub title: &'static str,
    pub message: &'static str,
}

pub static VI: Texts = Texts {
    brand: "Cổng dịch vụ công tỉnh (thử nghiệm)",
    language: "Ngôn ngữ",
    other_name: "English",
    home_title: "Trang chủ",
    logged_out: "Bạn đã đăng xuất khỏi cổng và khỏi hệ thống xác thực.",
    ended_by_provider: "Phiên của bạn đã kết thúc vì bạn đăng xuất ở hệ thống xác thực.",
    intro: "Đăng nhập bằng tài khoản định danh điện tử để dùng dịch vụ công trực tuyến.",
    login: "Đăng nhập",
    login_level2: "Đăng nhập với tài khoản mức 2",
    level2_note: "Một số thủ tục yêu cầu tài khoản định danh điện tử mức 2 (đã xác minh trực tiếp).",
    login_organisation: "Đăng nhập cho doanh nghiệp, tổ chức",
    login_officer_cert: "Cán bộ: đăng nhập bằng chứng thư số",
    hello: "Xin chào",
    acr_heading: "Mức xác thực",
    claims_heading: "Thông tin nhận được từ hệ thống xác thực",
    userinfo_failed: "Không lấy được thông tin từ UserInfo",
    id_token: "Mã thông báo ID",
    userinfo: "UserInfo",
    source: "Nguồn",
    claim: "Trường",
    value: "Giá trị",
    logout: "Đăng xuất",
    acr: AcrTexts {
        eid1: "Mức 1: tài khoản định danh điện tử mức 1; thông tin đã được đối chiếu với Cơ sở dữ liệu quốc gia về dân cư.",
        eid2: "Mức 2: danh tính đã được xác minh trực tiếp (vân tay hoặc ảnh chân dung). Đủ cho các thủ tục yêu cầu mức 2.",
        org: "Doanh nghiệp, tổ chức: tài khoản định danh điện tử của tổ chức, do người đại diện đăng nhập.",
        officer_mfa: "Cán bộ: mật khẩu và yếu tố xác thực thứ hai.",
        officer_hwk: "Cán bộ: mật khẩu và khóa bảo mật (passkey).",
        officer_pwd: "Cán bộ: chỉ mật khẩu.",
        officer_cert: "Cán bộ: chứng thư chữ ký số.",
        unknown: "Mức xác thực không xác định.",
        none: "Hệ thống xác thực không cho biết mức xác thực.",
    },
    error_code: "Mã lỗi",
    description: "Mô tả",
    back_home: "Về trang chủ",
    stale: Problem {
        title: "Yêu cầu đăng nhập không hợp lệ",
        message: "Phản hồi đăng nhập không khớp với yêu cầu nào của trình duyệt này, hoặc đã hết hạn. Vui lòng đăng nhập lại.",
    },
    unavailable: Problem {
        title: "Hệ thống xác thực chưa sẵn sàng",
        message: "Không kết nối được tới hệ thống xác thực. Vui lòng thử lại sau ít phút.",
    },
    provider_error: Problem {
        title: "Đăng nhập không thành công", message: "Hệ thống xác thực trả về lỗi:"
    },
    rejected: Problem {
        title: "Đăng nhập không thành công",
        message: "Phản hồi từ hệ thống xác thực không hợp lệ nên đã bị từ chối.",
    },
};

pub static EN: Texts = Texts {
    brand: "Provincial public-service portal (demo)",
    language: "Language",
    other_name: "Tiếng Việt",
    home_title: "Home",
    logged_out: "You have logged out of the portal and of the identity service.",
    ended_by_provider: "Your session ended because you logged out at the identity service.",
    intro: "Log in with your electronic identification account to use online public services.",
    login: "Log in",
    login_level2: "Log in with a level-2 account",
    level2_note: "Some procedures require a level-2 electronic identification account (verified in person).",
    login_organisation: "Log in for a business or organisation",
    login_officer_cert: "Officers: log in with a digital-signature certificate",
    hello: "Hello",
    acr_heading: "Authentication level",
    claims_heading: "Claims received from the identity service",
    userinfo_failed: "UserInfo could not be read",
    id_token: "ID token",
    userinfo: "UserInfo",
    source: "Source",
    claim: "Claim",
    value: "Value",
    logout: "Log out",
    acr: AcrTexts {
        eid1: "Level 1: electronic identification account at level 1; details checked against the national population database.",
        eid2: "Level 2: identity verified in person (fingerprints or portrait). Enough for procedures that require level 2.",
        org: "Business or organisation: the organisation's electronic identification account, used by its representative.",
        officer_mfa: "Officer: password plus a second factor.",
        officer_hwk: "Officer: password plus a security key (passkey).",
        officer_pwd: "Officer: password only.",
        officer_cert: "Officer: digital-signature certificate.",
        unknown: "Unknown authentication level.",
        none: "The identity service did not state a level.",
    },
    error_code: "Error code",
    description: "Description",
    back_home: "Back to the home page",
    stale: Problem {
        title: "Invalid login response",
        message: "This login response does not match a request from this browser, or it has expired. Please log in again.",
    },
    unavailable: Problem {
        title: "The identity service is not available",
        message: "The identity service could not be reached. Please try again in a few minutes.",
    },
    provider_error: Problem { title: "Login failed", message: "The identity service returned an error:" },
    rejected: Problem {
        title: "Login failed",
        message: "The identity service's response was not valid and has been refused.",
    },
};

pub fn of(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}
